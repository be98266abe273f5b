#pragma once

// Row-level isolation (design notes §3.3 and §3.8): takes one batch through the transform and
// the sink so that every record ends in the sink or in the DLQ, or the batch is abandoned
// (stopped, or the run failed) and stays below the checkpoint. Per-record sinks say which
// records they refused; other sinks are bisected to find them. Transient errors are retried;
// defects follow runner_options::on_defect; the dead letters of a batch are stored in one call
// (DLQ before ack) and charged to the error budget. Where the sink shares the DLQ's
// transactions, each write carries the letters not stored yet, so a batch whose letters come
// from the source or the transform commits once.
// Thread-safe: each worker calls `process` on a batch only it holds.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/run_stages.hpp>

#include "batch_ledger.hpp"
#include "error_budget.hpp"
#include "run_context.hpp"

namespace pipeline::detail {

enum class batch_outcome : std::uint8_t { done, abandoned };

class batch_isolation {
 public:
  // With an active `ledger`, each write commits its ledger entry with the records (and the
  // dead letters of the source and the transform are stored before it: the entry covers them).
  batch_isolation(run_context& run, run_stages& stages, const batch_ledger& ledger)
      : run_(run),
        stages_(stages),
        ledger_(ledger),
        budget_(run.options()),
        shares_dlq_(stages.shares_dlq_transactions()) {}

  auto process(batch_in_flight& b, const std::stop_token& stop) -> batch_outcome;

 private:
  struct work;  // one batch's letters and stop, threaded through the steps below
  using slice_step = std::function<batch_outcome(std::size_t, std::size_t)>;

  auto transform_all(work& w) -> batch_outcome;
  auto transform_slice(work& w, std::size_t begin, std::size_t end) -> batch_outcome;
  auto write_slice(work& w, std::size_t begin, std::size_t end) -> batch_outcome;
  auto write_each_slice(work& w, std::size_t begin, std::size_t end) -> batch_outcome;
  auto split_or_letter(work& w, std::size_t begin, std::size_t end, const error& e, std::uint32_t attempts,
                       bool outputs, const slice_step& again) -> batch_outcome;
  auto store_letters(work& w) -> batch_outcome;
  [[nodiscard]] auto letters_to_carry(const work& w) const -> std::span<const dead_letter>;
  void letters_stored(work& w, std::size_t count);
  auto write_once(work& w, std::size_t begin, std::size_t end) -> result<void>;
  auto failed_for_good(work& w, std::size_t index, bool output, error e, std::uint32_t attempts) -> bool;

  run_context& run_;
  run_stages& stages_;
  const batch_ledger& ledger_;
  error_budget budget_;
  bool shares_dlq_;  // the sink's writes can carry dead letters
};

}  // namespace pipeline::detail
