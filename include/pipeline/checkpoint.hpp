#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// A saved source position and the version it was saved under.
///
/// Version 0 means nothing is stored (start from the beginning). Each successful save stores
/// version + 1, which fences writers: a stale process that loaded version 4 cannot overwrite
/// the version 5 another process saved.
struct checkpoint {
  position pos;
  std::uint64_t version = 0;

  friend auto operator==(const checkpoint&, const checkpoint&) -> bool = default;
};

/// Durable storage of checkpoints by key (one key per pipeline and partition).
///
/// `load(key)` returns the stored checkpoint, or version 0 and an empty position.
/// `save(key, pos, expected_version)` stores `pos` only if the stored version is still
/// `expected_version` (0: nothing stored yet), and returns the new version; otherwise it
/// returns a `conflict` error and changes nothing. Implementations are thread-safe and, for
/// shared stores, safe across processes.
///
///     auto cp = store.load("orders/p3");                 // {pos, version}
///     auto v = store.save("orders/p3", batch.end, cp->version);
template <class C>
concept checkpoint_store = requires(C& c, std::string_view key, const position& pos, std::uint64_t version) {
  { c.load(key) } -> std::same_as<result<checkpoint>>;
  { c.save(key, pos, version) } -> std::same_as<result<std::uint64_t>>;
};

}  // namespace pipeline
