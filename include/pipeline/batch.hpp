#pragma once

#include <cstdint>
#include <vector>

#include <pipeline/position.hpp>

namespace pipeline {

/// Records read together, and where the source stood after the last of them.
///
/// `sequence` numbers batches of one source (and partition) from 0 in reading order; workers
/// finish batches out of order and the runner uses `sequence` to advance the checkpoint only
/// to the highest `end` below which every batch is done. A value type; move it between
/// threads, do not share it.
template <class T>
struct batch {
  using value_type = T;

  std::vector<T> records;
  position end;                ///< the source position after `records.back()`
  std::uint64_t sequence = 0;  ///< 0, 1, 2, … per source and partition
  std::uint32_t partition = 0;

  [[nodiscard]] auto size() const noexcept -> std::size_t { return records.size(); }
  [[nodiscard]] auto empty() const noexcept -> bool { return records.empty(); }
};

}  // namespace pipeline
