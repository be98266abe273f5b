#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stop_token>
#include <vector>

#include <pipeline/error.hpp>

#include <pipeline/result.hpp>

namespace pipeline {

/// Where records end up: `write` stores a batch of records, or fails with a classified error.
///
/// On a `permanent` or `invalid_input` error the runner splits the batch to find the bad
/// records, so a failed write should leave nothing of the batch behind (a transaction) or be
/// idempotent (upsert by key, INSERT IGNORE): either way writing the batch again is safe.
/// Thread-safety is the sink's own promise; each adapter states it.
///
///     auto r = sink.write(std::span{rows}, stop);
template <class K>
concept sink = requires(K& k, std::span<const typename K::value_type> records, std::stop_token stop) {
  typename K::value_type;
  { k.write(records, stop) } -> std::same_as<result<void>>;
};

/// A sink that buffers: `flush` makes everything written so far durable. The runner flushes
/// before it saves a checkpoint that covers those records.
template <class K>
concept flushable_sink = sink<K> && requires(K& k, std::stop_token stop) {
  { k.flush(stop) } -> std::same_as<result<void>>;
};

/// A record of a batch that a per-record sink refused, by its index in the span it was given.
struct rejected_record {
  std::size_t index = 0;
  error reason;  ///< why; `permanent` or `invalid_input` for bad data, a retryable kind to try it again

  friend auto operator==(const rejected_record&, const rejected_record&) -> bool = default;
};

/// A sink that answers per record: `write_each` commits the records it accepts and returns
/// the ones it refused, in index order, each with its reason.
///
/// The runner prefers `write_each` to `write` when a sink has it: refused records go to the
/// DLQ (or are tried again, when their reason is retryable) and the others are written once,
/// with no bisection. An error returned for the whole call means nothing of the batch was
/// committed (or that writing it again is harmless), as for `write`. Sinks without
/// `write_each` keep working: the runner bisects a failing batch to find the bad records.
///
///     auto refused = sink.write_each(std::span{rows}, stop);  // result<std::vector<rejected_record>>
template <class K>
concept per_record_sink = sink<K> && requires(K& k, std::span<const typename K::value_type> records,
                                              std::stop_token stop) {
  { k.write_each(records, stop) } -> std::same_as<result<std::vector<rejected_record>>>;
};

/// Whether `k`'s `write_each` really answers per record: false for a sink without it, true
/// for a `per_record_sink` unless it says otherwise at run time with a member
/// `answers_per_record()`. A wrapper that always has `write_each` (`any_sink`, `limited_sink`
/// over one) says false when what it wraps has no `write_each`: its `write_each` is then
/// `write` (all-or-nothing), and a caller that wants the bad records found bisects instead.
///
///     if (pipeline::answers_per_record(sink)) refused = sink.write_each(records, stop); else …
template <sink K>
[[nodiscard]] auto answers_per_record(const K& k) noexcept -> bool {
  if constexpr (!per_record_sink<K>) {
    return false;
  } else if constexpr (requires { { k.answers_per_record() } noexcept -> std::convertible_to<bool>; }) {
    return k.answers_per_record();
  } else {
    return true;
  }
}

template <sink K>
using sink_value_t = typename K::value_type;

}  // namespace pipeline
