#pragma once

// The checkpoint of a run (design notes §3.2): loads it and moves the source after it at the
// start; issues each batch to the watermark in reading order and finishes them in any order;
// saves the watermark, at most once per checkpoint_interval and once more at the end, after
// flushing the sink, so a checkpoint never gets ahead of durable data. Its version fences
// out a second process on the same key.
// Thread-safe: one lock around the watermark and saving, so watermarks are saved in order.

#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>

#include <pipeline/clock.hpp>
#include <pipeline/detail/run_stages.hpp>
#include <pipeline/detail/watermark.hpp>
#include <pipeline/position.hpp>

#include "run_context.hpp"

namespace pipeline::detail {

class checkpoint_keeper {
 public:
  checkpoint_keeper(run_context& run, run_stages& stages) : run_(run), stages_(stages) {}

  // Loads the checkpoint and seeks the source after it. False when the run cannot start.
  auto resume() -> bool;
  // Called by the reader, in sequence order, before the batch is queued.
  void issue(std::uint64_t sequence, const position& end);
  // A batch is done (in the sink or the DLQ): the watermark may move, and be saved.
  void finish(std::uint64_t sequence, const std::stop_token& stop);
  // Saves what is done and not saved yet, whatever the interval.
  void save(const std::stop_token& stop);

  [[nodiscard]] auto saved() -> position;
  [[nodiscard]] auto in_flight() -> std::size_t;

 private:
  void save_locked(const std::stop_token& stop);

  run_context& run_;
  run_stages& stages_;
  std::mutex mutex_;  // guards everything below
  watermark watermark_;
  std::optional<position> pending_;  // the watermark, not saved yet
  position saved_;
  std::uint64_t version_ = 0;
  clock::time_point last_save_{};
};

}  // namespace pipeline::detail
