#include <pipeline/job_log.hpp>

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace pipeline {

auto to_string(run_state state) noexcept -> std::string_view {
  switch (state) {
    case run_state::pending: return "pending";
    case run_state::running: return "running";
    case run_state::completed: return "completed";
    case run_state::failed: return "failed";
    case run_state::stopped: return "stopped";
    case run_state::crashed: return "crashed";
  }
  return "unknown";
}

auto parse_run_state(std::string_view name) -> result<run_state> {
  for (auto s : {run_state::pending, run_state::running, run_state::completed, run_state::failed, run_state::stopped,
                 run_state::crashed}) {
    if (to_string(s) == name) return s;
  }
  return invalid_input_error(fmt::format("'{}' is not a run state", name));
}

namespace {
auto host_name() -> std::string {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return host.data();
}
}  // namespace

namespace detail {

auto running_elsewhere(std::string_view job, const job_run& running) -> std::string {
  return fmt::format("job '{}' is running as run {} by {} (lease until {:%FT%TZ})", job, running.id, running.owner,
                     std::chrono::floor<std::chrono::seconds>(running.lease_until));
}

auto why_crashed(const job_run& dead, bool owner_gone, const lease_options& marker) -> std::string {
  if (owner_gone) return fmt::format("process {} is gone; marked by {}", dead.owner, marker.owner);
  return fmt::format("lease expired at {:%FT%TZ}: {} stopped renewing it; marked by {}",
                     std::chrono::floor<std::chrono::seconds>(dead.lease_until), dead.owner, marker.owner);
}

}  // namespace detail

auto lease_options::default_owner() -> std::string { return fmt::format("{}:{}", host_name(), ::getpid()); }

auto owner_may_be_alive(std::string_view owner) -> bool {
  const auto colon = owner.rfind(':');
  if (colon == std::string_view::npos || owner.substr(0, colon) != host_name()) return true;
  const auto digits = owner.substr(colon + 1);
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc{} || end != digits.data() + digits.size() || pid <= 0) return true;
  // A reused pid reads as alive: then only the lease can tell, as on another host.
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace pipeline
