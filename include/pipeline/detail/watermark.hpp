#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>

#include <pipeline/position.hpp>

namespace pipeline::detail {

// The checkpoint of out-of-order work: batches are issued in sequence order and finished in
// any order; the watermark is the end of the last batch below which every batch is finished.
// Holds one entry per batch in flight, so its memory is bounded by the queue and the workers.
// Not synchronised: its owner locks, around `finish` and whatever it does with the result, so
// that two workers cannot publish watermarks in the opposite order.
class watermark {
 public:
  // Sequences must be issued 0, 1, 2, … (the producer's order); `records` counts what the
  // batch holds, so that `records_below` can say how many records the watermark covers.
  void issue(std::uint64_t sequence, position end, std::uint64_t records = 0) {
    if (sequence != first_ + pending_.size()) throw std::logic_error("watermark: batches must be issued in order");
    pending_.push_back({std::move(end), records, false});
  }

  // Marks a batch finished; returns the new watermark position if it moved.
  auto finish(std::uint64_t sequence) -> std::optional<position> {
    if (sequence < first_ || sequence - first_ >= pending_.size()) {
      throw std::logic_error("watermark: finishing a batch that is not in flight");
    }
    pending_[sequence - first_].finished = true;
    std::optional<position> moved;
    while (!pending_.empty() && pending_.front().finished) {
      moved = std::move(pending_.front().end);
      records_below_ += pending_.front().records;
      pending_.pop_front();
      ++first_;
    }
    return moved;
  }

  // The sequence of the first batch not below the watermark: every one before it is finished.
  [[nodiscard]] auto finished_below() const -> std::uint64_t { return first_; }
  // Batches issued but not finished (or finished above an unfinished one).
  [[nodiscard]] auto in_flight() const -> std::size_t { return pending_.size(); }
  // Records in the batches below the watermark, issued since this watermark was made.
  [[nodiscard]] auto records_below() const -> std::uint64_t { return records_below_; }

 private:
  struct entry {
    position end;
    std::uint64_t records;
    bool finished;
  };
  std::deque<entry> pending_;
  std::uint64_t first_ = 0;  // sequence of pending_.front()
  std::uint64_t records_below_ = 0;
};

}  // namespace pipeline::detail
