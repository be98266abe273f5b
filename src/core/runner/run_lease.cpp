#include "run_lease.hpp"

#include <string_view>
#include <utility>

#include <fmt/format.h>

#include <pipeline/job_log.hpp>

#include "../lease_record.hpp"

namespace pipeline::detail {
namespace {

// The runner's lease is a lease_record of kind "lease"; an empty position is one given back.
constexpr std::string_view lease_kind = "lease";

}  // namespace

run_lease::run_lease(run_context& run, run_stages& stages)
    : run_(run), stages_(stages), token_(next_lease_token()) {}

run_lease::~run_lease() { lease_dropped(token_); }

auto run_lease::key() const -> std::string { return run_.options().effective_checkpoint_key() + "#lease"; }

auto run_lease::claim() -> bool {
  const auto& options = run_.options();
  if (!options.exclusive) return true;
  std::scoped_lock lock{mutex_};
  auto stored = run_.with_retry([&] { return stages_.load_checkpoint(key()); }, run_.halt_token());
  if (!stored) return run_.fail_unless_stopped(stored.error());
  const auto now = wall_now_ms();
  if (auto holder = decode_lease(lease_kind, stored->pos.bytes())) {
    const auto verdict = judge_lease(*holder, options.lease.owner, now);
    if (verdict.live) {
      run_.fail(conflict_error(fmt::format(
          "job '{}' (checkpoint key '{}') is running elsewhere: {} holds its lease{}", run_.name(),
          options.effective_checkpoint_key(), holder->owner,
          verdict.this_process ? " (another run in this process)"
                               : fmt::format(" for {} ms more", holder->until_ms - now))));
      return false;
    }
    run_.log().info("{}: taking over the lease of {}: {}", run_.name(), holder->owner, verdict.why);
  }
  const auto until = now + std::chrono::duration_cast<std::chrono::milliseconds>(options.lease.lease).count();
  const auto held = encode_lease(lease_kind, {options.lease.owner, token_, until, {}});
  auto taken =
      run_.with_retry([&] { return stages_.save_checkpoint(key(), held, stored->version); }, run_.halt_token());
  if (!taken) {
    if (taken.error().kind == error_kind::conflict) {
      run_.fail(conflict_error(fmt::format("job '{}' (checkpoint key '{}') was started by another run at the same "
                                           "moment", run_.name(), options.effective_checkpoint_key())));
      return false;
    }
    return run_.fail_unless_stopped(taken.error());
  }
  version_ = *taken;
  lease_until_ms_ = until;
  lease_held(token_);
  return true;
}

void run_lease::renew() {
  std::scoped_lock lock{mutex_};
  renew_locked();
}

auto run_lease::confirm() -> bool {
  const auto until = lease_until_ms_.load();
  if (until == 0) return !lost_.load();
  // Renewed a heartbeat ahead of running out, so a live run comes here about once a lease.
  const auto margin = std::chrono::duration_cast<std::chrono::milliseconds>(run_.options().heartbeat_interval).count();
  if (wall_now_ms() + margin < until) return true;
  std::scoped_lock lock{mutex_};
  renew_locked();
  return !lost_.load();
}

void run_lease::renew_locked() {
  if (lease_until_ms_.load() == 0) return;
  const auto& options = run_.options();
  const auto until = wall_now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(options.lease.lease).count();
  // One try: the next heartbeat is the retry, and a store that stays down lets the lease run
  // out, after which another run may take the job and this one fails at its next renewal.
  const auto held = encode_lease(lease_kind, {options.lease.owner, token_, until, {}});
  auto renewed = stages_.save_checkpoint(key(), held, version_);
  if (renewed) {
    version_ = *renewed;
    lease_until_ms_ = until;
    return;
  }
  if (renewed.error().kind == error_kind::conflict) {
    lease_until_ms_ = 0;
    lost_ = true;
    run_.fail(conflict_error(fmt::format("job '{}': the lease on checkpoint key '{}' was taken over by another run "
                                         "(this run was not heard from for longer than the lease)",
                                         run_.name(), options.effective_checkpoint_key())));
    return;
  }
  run_.log().warn("{}: renewing the lease failed: {}", run_.name(), fmt::format("{}", renewed.error()));
}

void run_lease::release() {
  std::scoped_lock lock{mutex_};
  if (lease_until_ms_.exchange(0) == 0) return;
  lease_dropped(token_);
  if (auto given = stages_.save_checkpoint(key(), position{}, version_); !given) {
    run_.log().warn("{}: giving the lease back failed (the next run takes it over when it runs out): {}", run_.name(),
                    fmt::format("{}", given.error()));
  }
}

}  // namespace pipeline::detail
