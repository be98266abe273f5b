#pragma once

// The checkpoint of a run (design notes §3.2): loads it and moves the source after it at the
// start; issues each batch to the watermark in reading order and finishes them in any order;
// saves the watermark, at most once per checkpoint_interval and once more at the end, after
// flushing the sink, so a checkpoint never gets ahead of durable data. Its version fences
// out a second process on the same key. Beside it, under `<key>#records-done`, it keeps how
// many records the checkpoint covers, so a resumed run's progress and report count the work
// done before it (saved after the checkpoint: a crash between the two leaves it a little low).
// Thread-safe: one lock around the watermark and saving, so watermarks are saved in order.

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include <pipeline/clock.hpp>
#include <pipeline/detail/run_stages.hpp>
#include <pipeline/detail/watermark.hpp>
#include <pipeline/position.hpp>

#include "batch_ledger.hpp"
#include "run_context.hpp"
#include "run_lease.hpp"

namespace pipeline::detail {

class checkpoint_keeper {
 public:
  // `ledger` forgets the committed batches each save covers (exactly-once mode); nothing is
  // saved once `lease` is lost; `saved` is told after each save (under the keeper's lock).
  checkpoint_keeper(run_context& run, run_stages& stages, batch_ledger& ledger, const run_lease& lease,
                    std::function<void()> saved)
      : run_(run), stages_(stages), ledger_(ledger), lease_(lease), saved_hook_(std::move(saved)) {}

  // Loads the checkpoint and seeks the source after it. False when the run cannot start.
  auto resume() -> bool;
  // Called by the reader, in sequence order, before the batch is queued.
  void issue(std::uint64_t sequence, const position& end, std::uint64_t records);
  // A batch is done (in the sink or the DLQ): the watermark may move, and be saved.
  void finish(std::uint64_t sequence, const std::stop_token& stop);
  // Saves what is done and not saved yet, whatever the interval.
  void save(const std::stop_token& stop);

  [[nodiscard]] auto saved() -> position;
  // Records done by earlier runs, below the checkpoint this run resumed from.
  [[nodiscard]] auto done_before() -> std::uint64_t;
  [[nodiscard]] auto in_flight() -> std::size_t;

 private:
  void save_locked(const std::stop_token& stop);
  void save_count_locked(const std::stop_token& stop);
  [[nodiscard]] auto count_key() const -> std::string;

  run_context& run_;
  run_stages& stages_;
  batch_ledger& ledger_;
  const run_lease& lease_;
  std::function<void()> saved_hook_;
  std::uint64_t pending_below_ = 0;  // the sequences below `pending_`
  std::mutex mutex_;  // guards everything below
  watermark watermark_;
  std::optional<position> pending_;  // the watermark, not saved yet
  std::uint64_t pending_records_ = 0;  // records below it, this run's and earlier runs'
  std::uint64_t done_before_ = 0;
  std::uint64_t count_version_ = 0;
  position saved_;
  std::uint64_t version_ = 0;
  clock::time_point last_save_{};
};

}  // namespace pipeline::detail
