#include <pipeline/job_log.hpp>

#include <unistd.h>

#include <array>

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

auto lease_options::default_owner() -> std::string {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}", host.data(), ::getpid());
}

}  // namespace pipeline
