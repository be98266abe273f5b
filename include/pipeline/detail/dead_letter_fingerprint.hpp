#pragma once

// What makes a dead letter the same entry when the runner dead-letters a batch again after a
// crash (it writes a batch's letters in one call, in the same order each time). Shared by
// the DLQ tables (sqlite, mysql) so that each skips replayed entries by the same rule.

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <pipeline/dead_letter.hpp>

namespace pipeline::detail {

/// FNV-1a, 64 bits: stable across builds and platforms, unlike std::hash.
[[nodiscard]] constexpr auto fnv1a_64(std::string_view bytes) noexcept -> std::uint64_t {
  std::uint64_t h = 0xcbf29ce484222325;
  for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3;
  return h;
}

/// The fingerprints of `dead_letter_fingerprints`, a letter at a time, for a store that reads
/// its entries back in pieces (the file DLQ recounts its file as one call). Not synchronised.
class dead_letter_fingerprinter {
 public:
  [[nodiscard]] auto next(const dead_letter& letter) -> std::string;

 private:
  std::map<std::tuple<std::uint32_t, std::string, std::uint64_t>, std::size_t> seen_;
};

/// One fingerprint per letter, "<hash of payload (and job, when set), 16 hex>/<repeat>": with the partition and
/// position (the batch's end) it identifies the entry; `repeat` counts equal payloads at the
/// same partition and position earlier in the call, so that two equal records of one batch
/// stay two entries. A hash collision would have to happen inside one batch's letters to
/// merge two entries.
[[nodiscard]] auto dead_letter_fingerprints(std::span<const dead_letter> letters) -> std::vector<std::string>;

}  // namespace pipeline::detail
