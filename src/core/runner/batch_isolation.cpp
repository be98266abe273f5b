#include "batch_isolation.hpp"

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace pipeline::detail {

struct batch_isolation::work {
  batch_in_flight& b;
  const std::stop_token& stop;
  std::vector<dead_letter> letters;
  std::size_t letters_stored = 0;
};

namespace {

// A record's own position when the source gave one, else the batch's end. Outputs of a
// per-batch transform cannot be traced to an input, so they carry the end too.
auto letter_position(const batch_in_flight& b, transform_shape shape, std::size_t index, bool output)
    -> const position& {
  std::optional<std::size_t> input = index;
  if (output && shape == transform_shape::per_record) input = b.origins[index];
  if (output && shape == transform_shape::per_batch) input.reset();
  if (input && *input < b.positions.size()) return b.positions[*input];
  return b.end;
}

auto as_void(transform_progress p) -> result<void> {
  if (p.failure) return std::move(*p.failure);
  return ok();
}

}  // namespace

auto batch_isolation::process(batch_in_flight& b, const std::stop_token& stop) -> batch_outcome {
  work w{b, stop, std::move(b.rejected)};
  const auto records = b.size + w.letters.size();
  if (transform_all(w) == batch_outcome::abandoned) return batch_outcome::abandoned;
  // Exactly-once: the ledger entry will cover the records dead-lettered so far, so they are
  // stored first (a crash between the two stores them again; the DLQ skips what it holds),
  // unless they commit with the entry itself.
  if (ledger_.active() && !shares_dlq_ && store_letters(w) == batch_outcome::abandoned) {
    return batch_outcome::abandoned;
  }
  if (const auto outputs = stages_.output_count(b); outputs > 0) {
    const auto wrote = stages_.answers_per_record() && !ledger_.active() ? write_each_slice(w, 0, outputs)
                                                                          : write_slice(w, 0, outputs);
    if (wrote == batch_outcome::abandoned) return batch_outcome::abandoned;
  }
  // DLQ before ack: a batch whose dead letters cannot be stored is not done. Where the sink
  // shares the DLQ's transactions, its write took them; only letters found by the write
  // itself (or a batch with nothing to write) are left here.
  if (store_letters(w) == batch_outcome::abandoned) return batch_outcome::abandoned;
  if (auto spent = budget_.spend(records, w.letters.size(), run_.counters.dead_lettered->value())) {
    run_.fail(permanent_error(std::move(*spent)));
    return batch_outcome::abandoned;
  }
  return batch_outcome::done;
}

// Stores the dead letters not stored yet, in one call.
auto batch_isolation::store_letters(work& w) -> batch_outcome {
  if (w.letters_stored == w.letters.size()) return batch_outcome::done;
  const auto fresh = std::span<const dead_letter>{w.letters}.subspan(w.letters_stored);
  auto stored = run_.with_retry([&] { return stages_.store_dead_letters(fresh, w.stop); }, w.stop);
  if (!stored) {
    run_.fail_unless_stopped(stored.error());
    return batch_outcome::abandoned;
  }
  letters_stored(w, fresh.size());
  return batch_outcome::done;
}

// The letters the next write carries: those not stored yet where the sink shares the DLQ's
// transactions, else none.
auto batch_isolation::letters_to_carry(const work& w) const -> std::span<const dead_letter> {
  if (!shares_dlq_) return {};
  return std::span<const dead_letter>{w.letters}.subspan(w.letters_stored);
}

void batch_isolation::letters_stored(work& w, std::size_t count) {
  run_.counters.dead_lettered->inc(count);
  w.letters_stored += count;
}

// Writes outputs [begin, end) once, with the letters it carries: with their ledger entry in
// exactly-once mode.
auto batch_isolation::write_once(work& w, std::size_t begin, std::size_t end) -> result<void> {
  const auto letters = letters_to_carry(w);
  auto wrote = [&]() -> result<void> {
    if (!ledger_.active()) return stages_.write(w.b, begin, end, letters, w.stop);
    auto entry = ledger_.entry_for(w.b, stages_.shape(), begin, end, stages_.output_count(w.b));
    if (!entry) {
      run_.fail(entry.error());
      return stopped_error();
    }
    return stages_.write_committed(w.b, begin, end, *entry, letters, w.stop);
  }();
  if (wrote) letters_stored(w, letters.size());
  return wrote;
}

auto batch_isolation::transform_all(work& w) -> batch_outcome {
  auto& b = w.b;
  switch (stages_.shape()) {
    case transform_shape::identity: return batch_outcome::done;
    case transform_shape::per_batch: return b.size == 0 ? batch_outcome::done : transform_slice(w, 0, b.size);
    case transform_shape::per_record: break;
  }
  // One call runs the whole batch; it returns early at a record that fails, which is tried
  // again alone (the failed call was its first attempt) and then the rest goes on.
  for (std::size_t i = 0; i < b.size;) {
    auto progress = stages_.transform(b, i, b.size);
    if (!progress.failure) break;
    const auto failed = progress.done_until;
    std::uint32_t attempts = 0;
    auto again = run_.with_retry(
        [&](std::uint32_t n) -> result<void> {
          attempts = n;
          if (n == 1) return std::move(*progress.failure);
          return as_void(stages_.transform(b, failed, failed + 1));
        },
        w.stop);
    if (!again && !failed_for_good(w, failed, false, std::move(again).error(), attempts)) {
      return batch_outcome::abandoned;
    }
    i = failed + 1;
  }
  return batch_outcome::done;
}

// A per-batch transform fails for a whole slice: halve it until the failing records are found.
auto batch_isolation::transform_slice(work& w, std::size_t begin, std::size_t end) -> batch_outcome {
  std::uint32_t attempts = 0;
  auto r = run_.with_retry(
      [&](std::uint32_t n) {
        attempts = n;
        return as_void(stages_.transform(w.b, begin, end));
      },
      w.stop);
  if (r) return batch_outcome::done;
  return split_or_letter(w, begin, end, r.error(), attempts, false,
                         [&](std::size_t lo, std::size_t hi) { return transform_slice(w, lo, hi); });
}

// A sink that answers for the whole batch: a permanent failure is bisected so that only the
// bad records are dead-lettered and the good ones are written once.
auto batch_isolation::write_slice(work& w, std::size_t begin, std::size_t end) -> batch_outcome {
  if (begin == end) return batch_outcome::done;
  std::uint32_t attempts = 0;
  auto r = run_.with_retry(
      [&](std::uint32_t n) {
        attempts = n;
        return write_once(w, begin, end);
      },
      w.stop);
  if (r) {
    run_.counters.written->inc(end - begin);
    return batch_outcome::done;
  }
  return split_or_letter(w, begin, end, r.error(), attempts, true,
                         [&](std::size_t lo, std::size_t hi) { return write_slice(w, lo, hi); });
}

// A sink that answers per record: the refused records are dead-lettered (or, when their
// reason is retryable, tried again alone); the others are committed by the one call.
auto batch_isolation::write_each_slice(work& w, std::size_t begin, std::size_t end) -> batch_outcome {
  std::uint32_t attempts = 0;
  auto r = run_.with_retry(
      [&](std::uint32_t n) {
        attempts = n;
        const auto letters = letters_to_carry(w);
        auto refused = stages_.write_each(w.b, begin, end, letters, w.stop);
        if (refused) letters_stored(w, letters.size());
        return refused;
      },
      w.stop);
  if (!r) {
    return split_or_letter(w, begin, end, r.error(), attempts, true,
                           [&](std::size_t lo, std::size_t hi) { return write_each_slice(w, lo, hi); });
  }
  const auto& refused = *r;
  for (std::size_t k = 0; k < refused.size(); ++k) {
    if (refused[k].index >= end - begin || (k > 0 && refused[k].index <= refused[k - 1].index)) {
      run_.fail(internal_error(fmt::format("the sink's write_each refused record {} of {}, out of order or range",
                                           refused[k].index, end - begin)));
      return batch_outcome::abandoned;
    }
  }
  run_.counters.written->inc(end - begin - refused.size());
  for (const auto& refusal : refused) {
    const auto at = begin + refusal.index;
    std::uint32_t tries = 1;
    auto again = refusal.reason.retryable()
                     ? run_.with_retry(
                           [&](std::uint32_t n) -> result<void> {
                             tries = n;
                             if (n == 1) return refusal.reason;
                             return stages_.write(w.b, at, at + 1, {}, w.stop);
                           },
                           w.stop)
                     : result<void>{refusal.reason};
    if (again) {
      run_.counters.written->inc();
    } else if (!failed_for_good(w, at, true, std::move(again).error(), tries)) {
      return batch_outcome::abandoned;
    }
  }
  return batch_outcome::done;
}

// The failure policy shared by transform and write: stopped abandons; a defect fails the run
// unless on_defect says to dead-letter; exhausted transient errors follow
// when_retries_exhausted; other errors are narrowed down by halving the slice, and a single
// record that still fails is dead-lettered.
auto batch_isolation::split_or_letter(work& w, std::size_t begin, std::size_t end, const error& e,
                                      std::uint32_t attempts, bool outputs, const slice_step& again)
    -> batch_outcome {
  if (e.kind == error_kind::stopped || w.stop.stop_requested()) return batch_outcome::abandoned;
  const bool defect_fails = e.kind == error_kind::internal && run_.options().on_defect == defect_policy::fail_run;
  if (defect_fails || e.retryable() || end - begin == 1) {
    for (auto i = begin; i < end; ++i) {
      if (!failed_for_good(w, i, outputs, e, attempts)) return batch_outcome::abandoned;
    }
    return batch_outcome::done;
  }
  const auto half = begin + (end - begin) / 2;
  if (again(begin, half) == batch_outcome::abandoned) return batch_outcome::abandoned;
  return again(half, end);
}

// A record failed for good: dead-letter it, unless a policy fails the run. Returns whether
// the batch goes on.
auto batch_isolation::failed_for_good(work& w, std::size_t index, bool output, error e, std::uint32_t attempts)
    -> bool {
  const auto& options = run_.options();
  const auto& pos = letter_position(w.b, stages_.shape(), index, output);
  if (e.kind == error_kind::stopped) return false;
  if (e.kind == error_kind::internal && options.on_defect == defect_policy::fail_run) {
    run_.fail(error{error_kind::internal,
                    fmt::format("a defect, not bad data: {} (record at position '{}'); the checkpoint stays below "
                                "this batch: fix the code and rerun, or set runner_options.on_defect = dead_letter",
                                e.message, pos.bytes()),
                    e.native_code, e.backend});
    return false;
  }
  if (e.retryable() && options.when_retries_exhausted == exhausted_policy::fail_run) {
    run_.fail(error{e.kind,
                    fmt::format("retries exhausted: {} (record at position '{}'); the checkpoint stays below this "
                                "batch: rerun once the cause is gone, or set runner_options.when_retries_exhausted = "
                                "dead_letter to dead-letter such records",
                                e.message, pos.bytes()),
                    e.native_code, e.backend});
    return false;
  }
  auto payload = output ? stages_.output_payload(w.b, index) : stages_.input_payload(w.b, index);
  w.letters.push_back({std::move(payload), std::move(e), attempts, pos, w.b.partition, std::chrono::system_clock::now(),
                       options.name});
  return true;
}

}  // namespace pipeline::detail
