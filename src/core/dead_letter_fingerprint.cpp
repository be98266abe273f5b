#include <pipeline/detail/dead_letter_fingerprint.hpp>

#include <map>
#include <tuple>

#include <fmt/format.h>

namespace pipeline::detail {

auto dead_letter_fingerprints(std::span<const dead_letter> letters) -> std::vector<std::string> {
  std::vector<std::string> out;
  out.reserve(letters.size());
  std::map<std::tuple<std::uint32_t, std::string_view, std::uint64_t>, std::size_t> seen;
  for (const auto& l : letters) {
    const auto h = fnv1a_64(l.payload);
    const auto repeat = seen[{l.partition, l.pos.bytes(), h}]++;
    out.push_back(fmt::format("{:016x}/{}", h, repeat));
  }
  return out;
}

}  // namespace pipeline::detail
