#pragma once

#include <concepts>
#include <span>
#include <stop_token>

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

template <sink K>
using sink_value_t = typename K::value_type;

}  // namespace pipeline
