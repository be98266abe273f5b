#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/job_run.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/result.hpp>

namespace pipeline::redis {

struct job_log_options {
  /// Keys: `<prefix>:runs:next` (the id counter), `<prefix>:run:<id>` (a hash per run) and
  /// `<prefix>:runs:<job>` (a sorted set of that job's ids), and for a day after each create
  /// `<prefix>:runs:created:<host>:<pid>:<n>` (its id: a create the client resends after a
  /// lost reply returns that run, not a second one). Braces in the prefix ("{etl}") keep them
  /// in one cluster slot.
  std::string prefix{"pipeline"};
};

/// Job runs in Redis, for `pipeline::begin_run`, `heartbeat` and `finish_run`, shared by every
/// process of a deployment.
///
/// Ids come from INCR, so they increase and are never reused. Each call is one Lua script,
/// so a reader never sees half a run. Counts are kept as decimal text (all 64 bits), times as
/// nanoseconds since the epoch (exact round trip), state as `to_string(run_state)` names it.
///
/// Contract: models `pipeline::job_log_store`; thread-safe (through the shared `client`);
/// blocking. `update` of an unknown id is `not_found`. Errors as `client` describes; a run
/// that does not read back (edited by hand) is a `permanent` error naming its id.
///
///     pipeline::redis::job_log log{client, {.prefix = "{etl}"}};
///     auto run = pipeline::begin_run(log, "listings", {}, std::chrono::system_clock::now());
class job_log {
 public:
  /// Throws std::invalid_argument if `c` is null or the prefix is empty.
  job_log(std::shared_ptr<client> c, job_log_options options = {});

  [[nodiscard]] auto create(const job_run& run) -> result<std::uint64_t>;
  [[nodiscard]] auto update(const job_run& run) -> result<void>;
  [[nodiscard]] auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>>;
  /// The names of the jobs that have runs, in name order (for an operator's listing): a SCAN
  /// of the sorted sets under the prefix, on the node the client was given.
  [[nodiscard]] auto jobs() -> result<std::vector<std::string>>;

 private:
  std::shared_ptr<client> client_;
  std::string prefix_;
};

static_assert(job_log_store<job_log>);

}  // namespace pipeline::redis
