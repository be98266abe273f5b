#include "run_lease.hpp"

#include <charconv>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include <pipeline/job_log.hpp>

namespace pipeline::detail {
namespace {

// The lease as the store keeps it: "lease\n<owner>\n<token>\n<until, ms since the epoch>".
// An empty position is a lease given back.
struct lease_holder {
  std::string owner;
  std::uint64_t token = 0;
  std::int64_t until_ms = 0;
};

auto encode(const lease_holder& h) -> position {
  return position{fmt::format("lease\n{}\n{}\n{}", h.owner, h.token, h.until_ms)};
}

auto decode(const std::string& bytes) -> std::optional<lease_holder> {
  std::string_view rest{bytes};
  auto field = [&rest]() -> std::optional<std::string_view> {
    const auto end = rest.find('\n');
    auto out = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    return out;
  };
  auto number = [](std::string_view text, auto& out) {
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && p == text.data() + text.size();
  };
  if (field() != "lease") return std::nullopt;
  lease_holder h;
  h.owner = std::string(*field());
  if (!number(*field(), h.token) || !number(rest, h.until_ms)) return std::nullopt;
  return h;
}

auto now_ms() -> std::int64_t {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The runs of this process that hold a lease, by token: a lease held under this process's
// owner by a token not here was left by an earlier run of this process (its release failed).
class live_runs {
 public:
  auto next_token() -> std::uint64_t { return ++last_; }
  void add(std::uint64_t token) {
    std::scoped_lock lock{mutex_};
    live_.insert(token);
  }
  void remove(std::uint64_t token) {
    std::scoped_lock lock{mutex_};
    live_.erase(token);
  }
  auto contains(std::uint64_t token) -> bool {
    std::scoped_lock lock{mutex_};
    return live_.contains(token);
  }

 private:
  std::atomic<std::uint64_t> last_{0};
  std::mutex mutex_;
  std::set<std::uint64_t> live_;
};

auto runs_here() -> live_runs& {
  static live_runs runs;
  return runs;
}

}  // namespace

run_lease::run_lease(run_context& run, run_stages& stages)
    : run_(run), stages_(stages), token_(runs_here().next_token()) {}

run_lease::~run_lease() { runs_here().remove(token_); }

auto run_lease::key() const -> std::string { return run_.options().effective_checkpoint_key() + "#lease"; }

auto run_lease::claim() -> bool {
  const auto& options = run_.options();
  if (!options.exclusive) return true;
  std::scoped_lock lock{mutex_};
  auto stored = run_.with_retry([&] { return stages_.load_checkpoint(key()); }, run_.halt_token());
  if (!stored) return run_.fail_unless_stopped(stored.error());
  const auto now = now_ms();
  if (auto holder = decode(stored->pos.bytes())) {
    const bool this_process = holder->owner == options.lease.owner;
    const bool alive = this_process ? runs_here().contains(holder->token) : owner_may_be_alive(holder->owner);
    if (alive && (this_process || holder->until_ms > now)) {
      run_.fail(conflict_error(fmt::format(
          "job '{}' (checkpoint key '{}') is running elsewhere: {} holds its lease{}", run_.name(),
          options.effective_checkpoint_key(), holder->owner,
          this_process ? " (another run in this process)" : fmt::format(" for {} ms more", holder->until_ms - now))));
      return false;
    }
    run_.log().info("{}: taking over the lease of {}: {}", run_.name(), holder->owner,
                    alive           ? "it ran out"
                    : this_process ? "an earlier run of this process did not give it back"
                                   : "its process is gone");
  }
  const auto until = now + std::chrono::duration_cast<std::chrono::milliseconds>(options.lease.lease).count();
  auto taken = run_.with_retry(
      [&] { return stages_.save_checkpoint(key(), encode({options.lease.owner, token_, until}), stored->version); },
      run_.halt_token());
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
  runs_here().add(token_);
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
  if (now_ms() + margin < until) return true;
  std::scoped_lock lock{mutex_};
  renew_locked();
  return !lost_.load();
}

void run_lease::renew_locked() {
  if (lease_until_ms_.load() == 0) return;
  const auto& options = run_.options();
  const auto until = now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(options.lease.lease).count();
  // One try: the next heartbeat is the retry, and a store that stays down lets the lease run
  // out, after which another run may take the job and this one fails at its next renewal.
  auto renewed = stages_.save_checkpoint(key(), encode({options.lease.owner, token_, until}), version_);
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
  runs_here().remove(token_);
  if (auto given = stages_.save_checkpoint(key(), position{}, version_); !given) {
    run_.log().warn("{}: giving the lease back failed (the next run takes it over when it runs out): {}", run_.name(),
                    fmt::format("{}", given.error()));
  }
}

}  // namespace pipeline::detail
