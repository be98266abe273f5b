#include "batch_ledger.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace pipeline::detail {
namespace {

// Where a position stands among others: its integer, the empty one lowest; nullopt when it is
// not an integer (then only equality says anything).
auto order_of(const position& p) -> std::optional<std::int64_t> {
  if (p.empty()) return std::numeric_limits<std::int64_t>::min();
  return p.to_integer();
}

struct span_of {
  std::int64_t start;
  std::int64_t end;
};

auto ordered(const committed_batch& e) -> std::optional<span_of> {
  auto s = order_of(e.start);
  auto t = order_of(e.end);
  if (!s || !t) return std::nullopt;
  return span_of{*s, *t};
}

auto conflict(const batch_in_flight& b, const committed_batch& e, std::string_view why) -> error {
  return conflict_error(fmt::format(
      "exactly-once: the batch from '{}' to '{}' {} the batch an earlier run committed from '{}' to '{}' (run {}, "
      "batch {}); its records cannot be told apart without per-record integer positions: rerun with the batch "
      "size of that run",
      b.start.bytes(), b.end.bytes(), why, e.start.bytes(), e.end.bytes(), e.run, e.sequence));
}

}  // namespace

auto batch_ledger::resume(const position& checkpoint) -> bool {
  if (run_.options().exactly_once && !active_) {
    return run_.fail_unless_stopped(invalid_input_error(
        fmt::format("{}: exactly_once is set but the sink keeps no batch ledger (a transactional_sink whose "
                    "is_transactional() is true: sqlite::table_sink and mysql::table_sink in insert mode, or upsert "
                    "with add_columns; file::jsonl_sink opened with ledger = true)",
                    run_.name())));
  }
  if (!active_) return true;
  const auto& job = run_.options().effective_checkpoint_key();
  auto entries = run_.with_retry([&] { return stages_.committed_batches(job, run_.halt_token()); }, run_.halt_token());
  if (!entries) return run_.fail_unless_stopped(entries.error());
  std::uint64_t highest = 0;
  const auto from = order_of(checkpoint);
  for (auto& e : *entries) {
    highest = std::max(highest, e.run);
    // An entry wholly below the checkpoint (a crash between its save and the compaction)
    // will never be read again; one that cannot be ordered is kept, to be matched.
    const auto span = ordered(e);
    if (span && from && span->end <= *from) continue;
    earlier_.push_back(std::move(e));
  }
  run_number_ = highest + 1;
  next_start_ = checkpoint;
  if (earlier_.empty()) {
    earlier_passed_below_ = 0;
  } else {
    run_.log().info("{}: exactly-once: {} batch(es) committed above the checkpoint by earlier runs; their records "
                    "are skipped",
                    run_.name(), earlier_.size());
  }
  return true;
}

auto batch_ledger::screen(batch_in_flight& b) -> bool {
  if (!active_) return true;
  b.start = std::exchange(next_start_, b.end);
  last_sequence_ = b.sequence;
  any_batch_ = true;
  if (earlier_.empty()) return true;

  const auto start = order_of(b.start);
  const auto end = order_of(b.end);
  std::vector<bool> skip(b.size, false);
  bool per_record = b.positions.size() == b.size && b.size > 0;
  std::vector<std::optional<std::int64_t>> at;
  if (per_record) {
    at.reserve(b.size);
    for (const auto& p : b.positions) {
      at.push_back(order_of(p));
      if (!at.back()) per_record = false;
    }
  }
  for (const auto& e : earlier_) {
    const auto span = ordered(e);
    if (e.start == b.start && e.end == b.end) {
      std::fill(skip.begin(), skip.end(), true);
      continue;
    }
    if (span && start && end) {
      if (per_record) {
        for (std::size_t i = 0; i < b.size; ++i) skip[i] = skip[i] || (span->start <= *at[i] && *at[i] < span->end);
      } else if (span->start <= *start && *end <= span->end) {
        std::fill(skip.begin(), skip.end(), true);
      } else if (span->start < *end && *start < span->end) {
        run_.fail(conflict(b, e, "overlaps part of"));
        return false;
      }
      continue;
    }
    if (e.start == b.start || e.end == b.end) {
      run_.fail(conflict(b, e, "shares one boundary with"));
      return false;
    }
  }
  // Entries this batch reaches the end of are passed: no later batch can hold their records.
  std::erase_if(earlier_, [&](const committed_batch& e) {
    const auto span = ordered(e);
    if (span && end) return span->end <= *end;
    return e.end == b.end;
  });
  if (earlier_.empty()) earlier_passed_below_ = b.sequence + 1;

  const auto dropped = static_cast<std::uint64_t>(std::count(skip.begin(), skip.end(), true));
  if (dropped > 0) {
    stages_.drop_inputs(b, skip);
    skipped_ += dropped;
  }
  return true;
}

auto batch_ledger::entry_for(const batch_in_flight& b, transform_shape shape, std::size_t begin, std::size_t end,
                             std::size_t outputs) const -> result<committed_batch> {
  committed_batch entry{run_.options().effective_checkpoint_key(), b.partition, run_number_, b.sequence, begin,
                        b.start, b.end};
  if (begin == 0 && end == outputs) return entry;
  // A slice: its range runs from its first record's own position to the next slice's.
  const auto input_of = [&](std::size_t output) -> std::optional<std::size_t> {
    switch (shape) {
      case transform_shape::identity: return output;
      case transform_shape::per_record: return b.origins[output];
      case transform_shape::per_batch: return std::nullopt;
    }
    return std::nullopt;
  };
  const auto position_of = [&](std::size_t output) -> std::optional<position> {
    const auto input = input_of(output);
    if (!input || *input >= b.positions.size()) return std::nullopt;
    return b.positions[*input];
  };
  auto start = begin > 0 ? position_of(begin) : std::optional<position>{b.start};
  auto stop = end < outputs ? position_of(end) : std::optional<position>{b.end};
  if (!start || !stop) {
    return invalid_input_error(
        "exactly-once: a failing batch was split to find its bad records, and a slice of it cannot be given a "
        "range to commit: the source gives no per-record positions, or a per-batch transform hides which input "
        "made which output");
  }
  entry.start = std::move(*start);
  entry.end = std::move(*stop);
  return entry;
}

void batch_ledger::forget(std::uint64_t sequence_below, const std::stop_token& stop) {
  if (!active_ || sequence_below == 0 || sequence_below < earlier_passed_below_.load()) return;
  drop(run_number_, sequence_below - 1, stop);
}

void batch_ledger::forget_all(const std::stop_token& stop) {
  if (!active_) return;
  if (!any_batch_) {
    if (run_number_ > 1) drop(run_number_ - 1, std::numeric_limits<std::uint64_t>::max() / 2, stop);
    return;
  }
  drop(run_number_, last_sequence_, stop);
}

void batch_ledger::drop(std::uint64_t run, std::uint64_t sequence, const std::stop_token& stop) {
  const auto& job = run_.options().effective_checkpoint_key();
  auto forgotten = run_.with_retry([&] { return stages_.forget_batches(job, run, sequence, stop); }, stop);
  if (!forgotten && forgotten.error().kind != error_kind::stopped) {
    run_.log().warn("{}: exactly-once: forgetting committed batches below the checkpoint failed (they stay, "
                    "harmless): {}",
                    run_.name(), fmt::format("{}", forgotten.error()));
  }
}

}  // namespace pipeline::detail
