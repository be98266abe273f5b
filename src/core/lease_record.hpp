#pragma once

// A lease kept in a checkpoint store, taken and renewed with the store's compare-and-set: the
// runner's per-job lease (`<key>#lease`, run_lease) and the scheduler's (`<job>#schedule`) are
// both this record. Stored as "<kind>\n<owner>\n<token>\n<until, ms since the epoch>" and, for
// the scheduler, more lines of numbers after it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/position.hpp>

namespace pipeline::detail {

struct lease_record {
  std::string owner;              // "host:pid"
  std::uint64_t token = 0;        // which holder in the owner's process (lease_tokens)
  std::int64_t until_ms = 0;      // 0: given back
  std::vector<std::int64_t> extra;  // the holder's own fields
};

[[nodiscard]] auto encode_lease(std::string_view kind, const lease_record& lease) -> position;
// nullopt when `bytes` is not a lease of `kind` (an empty position: none was ever taken).
[[nodiscard]] auto decode_lease(std::string_view kind, std::string_view bytes) -> std::optional<lease_record>;

// The leases the holders in this process hold, by token: a lease held under this process's
// owner by a token not here was left by an earlier holder in this process (its release failed),
// and one held by a token here is live however late its renewal is. Thread-safe.
[[nodiscard]] auto next_lease_token() -> std::uint64_t;
void lease_held(std::uint64_t token);
void lease_dropped(std::uint64_t token);

// Whether a holder may take the lease from `holder` at `now_ms`, and why.
struct lease_verdict {
  bool live = false;         // someone still holds it: wait
  bool this_process = false; // the holder is (or was) in this process
  std::string_view why;      // when not live and held before: why it can be taken over
};
[[nodiscard]] auto judge_lease(const lease_record& holder, std::string_view own_owner, std::int64_t now_ms)
    -> lease_verdict;

// Milliseconds since the epoch, by the system clock (leases are compared across hosts).
[[nodiscard]] auto wall_now_ms() -> std::int64_t;

}  // namespace pipeline::detail
