#pragma once

#include <cstdint>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/position.hpp>

namespace pipeline {

/// Records read together, and where the source stood after the last of them.
///
/// `end` covers every record read, the good ones in `records` and the malformed ones the
/// source already turned into `rejected` dead letters (a CSV line that does not parse): the
/// batch is done once both are stored. `sequence` and `partition` are set by whoever reads the
/// source (the runner numbers batches 0, 1, 2, … in reading order; workers finish them out
/// of order and the checkpoint advances only to the highest `end` below which every batch
/// is done). Sources that fill `positions` give each dead letter its own record's position. A value type; move it between threads, do not share it.
template <class T>
struct batch {
  using value_type = T;

  std::vector<T> records;
  position end;                ///< the source position after the last record read
  std::vector<dead_letter> rejected;  ///< records the source could not read, with the reason
  std::uint64_t sequence = 0;  ///< 0, 1, 2, … per source and partition
  std::uint32_t partition = 0;
  /// Each record's own position, when the source can tell: `positions[i]` is where a fresh
  /// source must `seek` to read `records[i]` next (a line's byte offset, the key before it, the
  /// stream id before it). Empty when the source cannot say; then dead letters carry `end`.
  /// A queue that never seeks (`redis::stream_source`) names each record's origin here
  /// instead, so that its dead letter keeps one identity when the record is redelivered.
  std::vector<position> positions;

  [[nodiscard]] auto size() const noexcept -> std::size_t { return records.size(); }
  [[nodiscard]] auto empty() const noexcept -> bool { return records.empty() && rejected.empty(); }
};

}  // namespace pipeline
