#include <pipeline/detail/dead_letter_fingerprint.hpp>

#include <fmt/format.h>

namespace pipeline::detail {

auto dead_letter_fingerprinter::next(const dead_letter& letter) -> std::string {
  const auto h = fnv1a_64(letter.payload);
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
