#pragma once

// What a batch costs in memory, counted the same way by the readers that bound it
// (max_batch_bytes) and by the tests that check them.

#include <cstddef>

#include <pipeline/batch.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>

namespace pipeline::file::detail {

/// Bytes that `x` occupies and owns: its own size plus each heap block it holds (a string's
/// buffer unless it is short enough to live inside the string, a record's fields), each with
/// 16 bytes of allocator overhead. Vectors are counted by size, not capacity: the readers build
/// records to size.
[[nodiscard]] auto memory_bytes(const record& r) noexcept -> std::size_t;
[[nodiscard]] auto memory_bytes(const dead_letter& d) noexcept -> std::size_t;
[[nodiscard]] auto memory_bytes(const position& p) noexcept -> std::size_t;

/// The sum over a batch's records, positions and rejected entries: what `max_batch_bytes` bounds.
template <class T>
[[nodiscard]] auto batch_memory_bytes(const batch<T>& b) noexcept -> std::size_t {
  std::size_t total = 0;
  for (const auto& r : b.records) total += memory_bytes(r);
  for (const auto& p : b.positions) total += memory_bytes(p);
  for (const auto& d : b.rejected) total += memory_bytes(d);
  return total;
}

}  // namespace pipeline::file::detail
