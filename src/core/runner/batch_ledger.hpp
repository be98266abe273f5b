#pragma once

// Exactly-once mode (docs/runner.md): when `runner_options::exactly_once` is set (the sink a
// `transactional_sink` that keeps a ledger), each batch (or
// slice of a split batch) is committed with its ledger entry, and a resumed run skips the
// records that earlier runs committed above the checkpoint instead of writing them again.
//
// At the start it reads the job's entries, keeps those that may lie above the checkpoint, and
// numbers this run one above the highest run in the ledger. The reader `screen`s each batch
// before it is issued: a record whose own position lies in an entry's [start, end) is dropped.
// Positions compare as integers (`position::to_integer`; the empty position is the lowest);
// where the source gives no per-record positions, a whole batch is skipped when it lies in one
// entry and written when it overlaps none, and a partial overlap fails the run with `conflict`
// (the batch boundaries changed and the records cannot be told apart). Positions that are not
// integers are matched by exact batch boundaries only (same batch size on rerun), and a batch
// that shares one boundary with an entry but not the other fails the run the same way.
// After each checkpoint save, the entries it covers are deleted in one statement, once every
// entry of an earlier run has been passed (until then, and for the rest of a run whose earlier
// entries cannot be ordered, nothing is deleted before the run completes).
// Thread-safety: `resume` and `screen` come from one thread at a time (the run's, then the
// reader); `entry_for` from any worker; `forget` under the checkpoint keeper's lock.

#include <atomic>
#include <cstdint>
#include <limits>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/detail/run_stages.hpp>
#include <pipeline/transactional_sink.hpp>

#include "run_context.hpp"

namespace pipeline::detail {

class batch_ledger {
 public:
  batch_ledger(run_context& run, run_stages& stages)
      : run_(run), stages_(stages), active_(run.options().exactly_once && stages.transactional()) {}

  // Whether the run is in exactly-once mode: if not, every other member does nothing.
  [[nodiscard]] auto active() const noexcept -> bool { return active_; }

  // Reads the ledger; `checkpoint` is where the source resumes. False when the run cannot start
  // (exactly-once asked of a sink that keeps no ledger, or the ledger cannot be read).
  auto resume(const position& checkpoint) -> bool;
  // Marks where `b` starts and drops the records earlier runs committed. False when the run
  // failed (a conflict: the batch overlaps an entry in a way that cannot be told apart).
  auto screen(batch_in_flight& b) -> bool;
  // The entry that commits outputs [begin, end) of `b` (of `outputs`); an `invalid_input`
  // error when a slice of a split batch cannot be given a range (no per-record positions, or
  // a per-batch transform whose outputs cannot be traced to inputs).
  [[nodiscard]] auto entry_for(const batch_in_flight& b, transform_shape shape, std::size_t begin, std::size_t end,
                               std::size_t outputs) const -> result<committed_batch>;
  // A checkpoint covering this run's batches below `sequence_below` is saved: forget their
  // entries (and earlier runs', once passed). Failures are logged: the entries stay, harmless.
  void forget(std::uint64_t sequence_below, const std::stop_token& stop);
  // The run completed: every entry of the job lies below its checkpoint.
  void forget_all(const std::stop_token& stop);

  [[nodiscard]] auto skipped() const noexcept -> std::uint64_t { return skipped_.load(); }

 private:
  void drop(std::uint64_t run, std::uint64_t sequence, const std::stop_token& stop);

  run_context& run_;
  run_stages& stages_;
  bool active_;
  std::uint64_t run_number_ = 0;
  position next_start_;                        // reader only
  std::vector<committed_batch> earlier_;       // reader only: earlier runs' entries not passed yet
  std::uint64_t last_sequence_ = 0;            // reader only
  bool any_batch_ = false;                     // reader only
  static constexpr auto never = std::numeric_limits<std::uint64_t>::max();
  // Earlier runs' entries may be forgotten once the checkpoint covers sequences below this.
  std::atomic<std::uint64_t> earlier_passed_below_{never};
  std::atomic<std::uint64_t> skipped_{0};
};

}  // namespace pipeline::detail
