#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <vector>

#include <pipeline/batch.hpp>
#include <pipeline/result.hpp>
#include <pipeline/source.hpp>

namespace pipeline {

/// A source over records held in memory, in batches, with positions: for tests and for data
/// that is already in hand.
///
/// The position after a batch is the count of records consumed (`position::from_integer`),
/// so it resumes with `seek` like any real source; each record's own position
/// (`batch::positions`) is the count before it. Copies each record into its batch (the
/// records stay, so it can seek back). Not thread-safe.
///
///     pipeline::vector_source<int> src{{1, 2, 3, 4, 5}, 2};   // batches {1,2} {3,4} {5}
template <class T>
class vector_source {
 public:
  using value_type = T;

  /// Throws std::invalid_argument if `batch_size` is 0.
  vector_source(std::vector<T> records, std::size_t batch_size)
      : records_(std::move(records)), batch_size_(batch_size) {
    if (batch_size_ == 0) throw std::invalid_argument("vector_source: batch_size must be > 0");
  }

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<T>>> {
    if (stop.stop_requested()) return stopped_error();
    if (next_ == records_.size()) return std::optional<batch<T>>{};
    const auto left = records_.size() - next_;
    // Not std::min: <algorithm> would cost every file that includes this header.
    const auto count = left < batch_size_ ? left : batch_size_;
    batch<T> out;
    const auto first = records_.begin() + static_cast<std::ptrdiff_t>(next_);
    out.records.assign(first, first + static_cast<std::ptrdiff_t>(count));
    out.positions.reserve(count);
    for (std::size_t i = 0; i < count; ++i) out.positions.push_back(position::from_integer(static_cast<std::int64_t>(next_ + i)));
    next_ += count;
    out.end = position::from_integer(static_cast<std::int64_t>(next_));
    return std::optional<batch<T>>{std::move(out)};
  }

  /// Resumes after the record count stored in `pos`; an empty position starts over.
  [[nodiscard]] auto seek(const position& pos) -> result<void> {
    if (pos.empty()) {
      next_ = 0;
      return ok();
    }
    const auto offset = pos.to_integer();
    if (!offset || *offset < 0 || static_cast<std::size_t>(*offset) > records_.size()) {
      return invalid_input_error("vector_source: position '" + pos.bytes() + "' is not an offset in [0, " +
                                 std::to_string(records_.size()) + "]");
    }
    next_ = static_cast<std::size_t>(*offset);
    return ok();
  }

 private:
  std::vector<T> records_;
  std::size_t batch_size_;
  std::size_t next_ = 0;
};

}  // namespace pipeline
