#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/error.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// Which dead letters a replay or a purge is about. Every field that is set must match; an
/// empty filter matches every letter. A value type.
///
/// `from` is inclusive and `to` exclusive, both on `dead_letter::time` (when it was
/// dead-lettered), compared at the precision the store keeps.
///
///     pipeline::dead_letter_filter f{.kind = pipeline::error_kind::internal, .job = "listings"};
struct dead_letter_filter {
  std::optional<error_kind> kind{};  ///< `reason.kind`
  std::optional<std::uint32_t> partition{};
  std::optional<std::chrono::system_clock::time_point> from{};
  std::optional<std::chrono::system_clock::time_point> to{};
  std::optional<std::string> job{};

  /// Whether `letter` matches: the rule every store applies (in its own query language).
  [[nodiscard]] auto matches(const dead_letter& letter) const -> bool {
    return (!kind || letter.reason.kind == *kind) && (!partition || letter.partition == *partition) &&
           (!from || letter.time >= *from) && (!to || letter.time < *to) && (!job || letter.job == *job);
  }
};

/// A pending dead letter as a store holds it: `id` is the store's own, opaque (a row id, a
/// stream entry id, an ObjectId, a line number), and increases in write order.
struct stored_dead_letter {
  std::string id;
  dead_letter letter;

  friend auto operator==(const stored_dead_letter&, const stored_dead_letter&) -> bool = default;
};

/// A letter a replay tried again and that failed again: its attempts grow by one and `reason`
/// replaces the stored one.
struct failed_replay {
  std::string id;
  error reason;
};

/// A DLQ that can also be read back, for replay (`pipeline::replay`) and clean-up:
///
/// - `read(filter, after_id, limit, stop)`: up to `limit` pending letters that match, with an
///   id above `after_id` (all when nullopt), by increasing id. An id the store cannot parse
///   is an error (`invalid_input`, or the server's own for a Redis stream id).
/// - `resolve(ids, stop)`: those letters are no longer pending (removed, or marked resolved)
///   and no later `read` returns them; unknown ids are ignored, one the store cannot parse is
///   an error as for `read`.
/// - `record_failure(failures, stop)`: each letter's attempts grow by one and its reason is
///   replaced; it stays pending.
/// - `purge(filter, stop)`: removes every letter that matches and says how many it removed
///   (resolved ones included, in a store that keeps them).
///
/// Each adapter says what it keeps for resolved letters (docs/replay.md). Stores are
/// thread-safe as their `write` is.
template <class D>
concept dead_letter_store =
    dead_letter_sink<D> && requires(D& d, const dead_letter_filter& filter, const std::optional<std::string>& after_id,
                                    std::size_t limit, std::span<const std::string> ids,
                                    std::span<const failed_replay> failures, std::stop_token stop) {
      { d.read(filter, after_id, limit, stop) } -> std::same_as<result<std::vector<stored_dead_letter>>>;
      { d.resolve(ids, stop) } -> std::same_as<result<void>>;
      { d.record_failure(failures, stop) } -> std::same_as<result<void>>;
      { d.purge(filter, stop) } -> std::same_as<result<std::size_t>>;
    };

}  // namespace pipeline
