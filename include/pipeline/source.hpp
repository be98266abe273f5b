#pragma once

#include <concepts>
#include <optional>
#include <stop_token>

#include <pipeline/batch.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// Something that hands out records in batches: a table read by key, a file, a stream.
///
/// `next_batch(stop)` returns the next batch, `std::nullopt` once exhausted (and every call
/// after that), or an error: transient ones are retried by the caller, `stopped` ends the
/// read. A source is used by one thread at a time; it need not be thread-safe.
///
///     while (auto b = src.next_batch(stop)) { if (!*b) break; use(**b); }
template <class S>
concept source = requires(S& s, std::stop_token stop) {
  typename S::value_type;
  { s.next_batch(stop) } -> std::same_as<result<std::optional<batch<typename S::value_type>>>>;
};

/// A source that can resume: after `seek(p)` with the `end` of a batch it handed out, the
/// next batch starts with the first record after that batch. `seek(position{})` starts over.
/// A position the source cannot read is an `invalid_input` error.
template <class S>
concept seekable_source = source<S> && requires(S& s, const position& p) {
  { s.seek(p) } -> std::same_as<result<void>>;
};

template <source S>
using source_value_t = typename S::value_type;

}  // namespace pipeline
