#include <pipeline/detail/dead_letter_fingerprint.hpp>

#include <fmt/format.h>

namespace pipeline::detail {

auto dead_letter_fingerprinter::next(const dead_letter& letter) -> std::string {
  // The job joins the hash only when set, so that letters stored before letters had a job
  // (and letters of jobs without a name) keep the fingerprint they were stored under. The same
  // payload dead-lettered by two jobs is two entries.
  const auto h = letter.job.empty() ? fnv1a_64(letter.payload)
                                    : fnv1a_64(letter.payload) ^ (fnv1a_64(letter.job) * 0x9e3779b97f4a7c15);
  const auto repeat = seen_[{letter.partition, letter.pos.bytes(), h}]++;
  return fmt::format("{:016x}/{}", h, repeat);
}

auto dead_letter_fingerprints(std::span<const dead_letter> letters) -> std::vector<std::string> {
  std::vector<std::string> out;
  out.reserve(letters.size());
  dead_letter_fingerprinter fingerprints;
  for (const auto& l : letters) out.push_back(fingerprints.next(l));
  return out;
}

}  // namespace pipeline::detail
