#include <pipeline/supervisor.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header

namespace pipeline {
namespace {

using steady = std::chrono::steady_clock;

// argv[0] as execve needs it: a path as given, or the first executable match in PATH.
auto find_executable(const std::string& command) -> std::optional<std::string> {
  if (command.find('/') != std::string::npos) {
    if (::access(command.c_str(), X_OK) == 0) return command;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    const auto dir = dirs.substr(0, colon);
    auto candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, command);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

auto describe_status(int status) -> std::string {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  return fmt::format("wait status {}", status);
}

// The argv and environment of one worker, built before fork: the child may only make
// async-signal-safe calls until execve.
class spawn_arguments {
 public:
  spawn_arguments(const std::vector<std::string>& command, std::size_t slot)
      : args_(command), slot_variable_(fmt::format("PIPELINE_WORKER_SLOT={}", slot)) {
    for (auto& a : args_) argv_.push_back(a.data());
    argv_.push_back(nullptr);
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (std::string_view{*e}.starts_with("PIPELINE_WORKER_SLOT=")) continue;
      envp_.push_back(*e);
    }
    envp_.push_back(slot_variable_.data());
    envp_.push_back(nullptr);
  }
  [[nodiscard]] auto argv() -> char** { return argv_.data(); }
  [[nodiscard]] auto envp() -> char** { return envp_.data(); }

 private:
  std::vector<std::string> args_;
  std::string slot_variable_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
};

// Starts `executable` as a worker: its pid, or the errno of the fork or the execve.
auto spawn(const std::string& executable, spawn_arguments& arguments) -> result<pid_t> {
  int report[2];  // the child writes execve's errno here; a close on exec means it ran
  if (::pipe2(report, O_CLOEXEC) != 0) return error{error_kind::transient, "supervisor: pipe", errno, "errno"};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(report[0]);
    ::close(report[1]);
    return error{error_kind::transient, fmt::format("supervisor: fork: {}", std::strerror(e)), e, "errno"};
  }
  if (pid == 0) {
    ::close(report[0]);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &default_action, nullptr);  // fails harmlessly for KILL/STOP
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the supervisor died before the line above
    ::execve(executable.c_str(), arguments.argv(), arguments.envp());
    const int e = errno;
    (void)!::write(report[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(report[1]);
  ::setpgid(pid, pid);  // as the child does: whichever runs first, the group exists before a signal to it
  int exec_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(report[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return error{error_kind::permanent,
                 fmt::format("supervisor: starting {}: {}", executable, std::strerror(exec_errno)), exec_errno,
                 "errno"};
  }
  return pid;
}

struct worker_process {
  pid_t pid;
  std::size_t slot;
  steady::time_point started;
  std::optional<steady::time_point> stop_sent;  // SIGTERM sent at
  bool killed = false;                          // SIGKILL sent after the grace
};

struct supervisor_metrics {
  gauge* workers = nullptr;
  gauge* desired = nullptr;
  gauge* depth = nullptr;
  counter* started = nullptr;
  counter* crashed = nullptr;
  counter* killed = nullptr;

  supervisor_metrics(metrics_registry* m, const std::string& name) {
    if (m == nullptr) return;
    const metric_labels labels{{"supervisor", name}};
    workers = &m->register_gauge("pipeline_supervisor_workers", "Worker processes alive", labels);
    desired = &m->register_gauge("pipeline_supervisor_desired_workers", "Worker processes wanted", labels);
    depth = &m->register_gauge("pipeline_supervisor_queue_depth", "The queue depth last read", labels);
    started = &m->register_counter("pipeline_supervisor_started_total", "Worker processes started", labels);
    crashed = &m->register_counter("pipeline_supervisor_crashed_total", "Workers that ended while wanted, not with 0",
                                   labels);
    killed = &m->register_counter("pipeline_supervisor_killed_total", "Workers killed after the stop grace", labels);
  }
};

// One run of a supervisor: its children, its crash backoff and its counts.
class supervision {
 public:
  supervision(const supervisor_options& options, const std::string& executable)
      : options_(options),
        executable_(executable),
        scaler_(options.scale),
        restart_delays_(options.restart_backoff),
        metrics_(options.metrics, options.name),
        slots_(options.scale.max_workers),
        desired_(options.scale.min_workers) {}

  auto run(const std::stop_token& stop) -> supervisor_report {
    auto next_evaluation = steady::now();
    while (!stop.stop_requested()) {
      reap();
      if (report_.finished && alive_.empty()) return report_;
      const auto now = steady::now();
      if (now >= next_evaluation && !report_.finished) {
        evaluate();
        next_evaluation = now + options_.scale.interval;
      }
      match_desired();
      kill_past_grace();
      const auto wake = std::min(next_evaluation, steady::now() + options_.reap_interval);
      pause_until(wake, stop);
    }
    stop_all();
    return report_;
  }

 private:
  void pause_until(steady::time_point wake, const std::stop_token& stop) {
    std::mutex m;
    std::condition_variable_any woken;
    std::unique_lock lock{m};
    (void)woken.wait_until(lock, stop, wake, [] { return false; });
  }

  [[nodiscard]] auto active() const -> std::size_t {
    return static_cast<std::size_t>(std::ranges::count_if(alive_, [](const auto& w) { return !w.stop_sent; }));
  }

  void evaluate() {
    supervisor_evaluation e{.at = std::chrono::system_clock::now(), .running = alive_.size()};
    ++report_.evaluations;
    auto depth = options_.depth();
    if (depth) {
      last_depth_ = *depth;
      desired_ = scaler_.evaluate(static_cast<std::size_t>(last_depth_), active());
    } else {
      e.depth_failed = true;
      options_.log.warn("supervisor {}: reading the queue depth failed, keeping {} workers: {}", options_.name,
                        desired_, depth.error());
    }
    e.depth = last_depth_;
    e.desired = desired_;
    if (metrics_.depth != nullptr) {
      metrics_.depth->set(static_cast<double>(last_depth_));
      metrics_.desired->set(static_cast<double>(desired_));
    }
    if (options_.scale.on_desired) options_.scale.on_desired(desired_);
    if (options_.on_evaluation) options_.on_evaluation(e);
  }

  [[nodiscard]] auto slot_taken(std::size_t slot) const -> bool {
    return std::ranges::any_of(alive_, [slot](const auto& w) { return w.slot == slot; });
  }

  // Stops the newest workers beyond the desired count; starts workers up to it in free slots.
  // A slot whose worker crashed waits out its backoff, and the wait holds back a start: a
  // crashed worker is replaced after its backoff, not at once in another slot.
  void match_desired() {
    for (auto n = active(); n > desired_; --n) {
      auto newest = std::ranges::max_element(alive_, {}, [](const worker_process& w) {
        return w.stop_sent ? steady::time_point::min() : w.started;
      });
      ask_to_stop(*newest, "fewer workers needed");
    }
    if (report_.finished) return;
    const auto now = steady::now();
    std::size_t held = 0;
    for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
      if (!slot_taken(slot) && slots_[slot].not_before > now) ++held;
    }
    for (std::size_t slot = 0; slot < slots_.size() && active() + held < desired_; ++slot) {
      if (slot_taken(slot) || slots_[slot].not_before > now) continue;
      if (!start_one(slot)) ++held;  // its slot now waits a backoff
    }
  }

  auto start_one(std::size_t slot) -> bool {
    spawn_arguments arguments{options_.command, slot};
    auto pid = spawn(executable_, arguments);
    if (!pid) {
      // A failed start counts as a crash: backoff, so a broken command is not retried in a loop.
      options_.log.error("supervisor {}: {}", options_.name, pid.error());
      note_crash(slot, steady::duration::zero());
      return false;
    }
    alive_.push_back({.pid = *pid, .slot = slot, .started = steady::now(), .stop_sent = std::nullopt});
    ++report_.started;
    report_.peak_workers = std::max(report_.peak_workers, alive_.size());
    if (metrics_.started != nullptr) metrics_.started->inc();
    update_workers_gauge();
    options_.log.info("supervisor {}: started worker {} (pid {})", options_.name, slot, *pid);
    return true;
  }

  void ask_to_stop(worker_process& w, std::string_view why) {
    w.stop_sent = steady::now();
    ::kill(w.pid, SIGTERM);
    options_.log.info("supervisor {}: stopping worker {} (pid {}): {}", options_.name, w.slot, w.pid, why);
  }

  void kill_past_grace() {
    const auto now = steady::now();
    for (auto& w : alive_) {
      if (!w.stop_sent || w.killed || now - *w.stop_sent < options_.stop_grace) continue;
      w.killed = true;
      ::kill(w.pid, SIGKILL);
      options_.log.warn("supervisor {}: worker {} (pid {}) did not stop within {} ms: killed", options_.name, w.slot,
                        w.pid, options_.stop_grace.count());
    }
  }

  void note_crash(std::size_t slot, steady::duration ran) {
    auto& s = slots_[slot];
    s.crashes_in_row = ran >= options_.stable_after ? 1 : s.crashes_in_row + 1;
    s.not_before = steady::now() + restart_delays_.delay_before(s.crashes_in_row + 1);
  }

  // Collects every child that ended and counts how it ended.
  void reap() {
    for (auto it = alive_.begin(); it != alive_.end();) {
      int status = 0;
      const pid_t r = ::waitpid(it->pid, &status, WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++it;
        continue;
      }
      ended(*it, r < 0 ? 0 : status);
      it = alive_.erase(it);
    }
    update_workers_gauge();
  }

  void ended(const worker_process& w, int status) {
    const auto ran = steady::now() - w.started;
    if (w.stop_sent) {
      ++(w.killed ? report_.killed : report_.stopped);
      if (w.killed && metrics_.killed != nullptr) metrics_.killed->inc();
      options_.log.info("supervisor {}: worker {} (pid {}) ended: {}", options_.name, w.slot, w.pid,
                        describe_status(status));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ++report_.exited;
      if (options_.on_exit_zero == worker_exit_zero::finished) {
        if (!report_.finished) {
          options_.log.info("supervisor {}: worker {} (pid {}) finished the work; waiting for the others to end",
                            options_.name, w.slot, w.pid);
        }
        report_.finished = true;
      } else {
        options_.log.info("supervisor {}: worker {} (pid {}) exited with 0; starting another", options_.name, w.slot,
                          w.pid);
      }
    } else if (report_.finished) {
      ++report_.crashed;  // the work is done: nothing is left for a replacement
      if (metrics_.crashed != nullptr) metrics_.crashed->inc();
      options_.log.warn("supervisor {}: worker {} (pid {}) crashed ({}) after the work finished", options_.name, w.slot,
                        w.pid, describe_status(status));
    } else {
      ++report_.crashed;
      if (metrics_.crashed != nullptr) metrics_.crashed->inc();
      note_crash(w.slot, ran);
      options_.log.warn("supervisor {}: worker {} (pid {}) crashed ({}) after {} ms; restarting in {} ms",
                        options_.name, w.slot, w.pid, describe_status(status),
                        std::chrono::duration_cast<std::chrono::milliseconds>(ran).count(),
                        std::chrono::duration_cast<std::chrono::milliseconds>(slots_[w.slot].not_before - steady::now())
                            .count());
    }
  }

  // SIGTERM to every worker, SIGKILL to those still there after the grace, all reaped.
  void stop_all() {
    for (auto& w : alive_) {
      if (!w.stop_sent) ask_to_stop(w, "the supervisor is stopping");
    }
    while (!alive_.empty()) {
      reap();
      if (alive_.empty()) break;
      kill_past_grace();
      std::this_thread::sleep_for(std::min<steady::duration>(options_.reap_interval, std::chrono::milliseconds{20}));
    }
  }

  void update_workers_gauge() {
    if (metrics_.workers != nullptr) metrics_.workers->set(static_cast<double>(alive_.size()));
  }

  const supervisor_options& options_;
  const std::string& executable_;
  autoscaler scaler_;
  backoff restart_delays_;
  supervisor_metrics metrics_;
  supervisor_report report_;
  std::vector<worker_process> alive_;
  struct slot_state {
    std::uint32_t crashes_in_row = 0;  // crashes of its workers that ran less than stable_after
    steady::time_point not_before{};  // its backoff after the last crash
  };
  std::vector<slot_state> slots_;  // one per slot, 0 … max_workers-1
  std::size_t desired_;
  std::uint64_t last_depth_ = 0;
};

}  // namespace

supervisor::supervisor(supervisor_options options) : options_(std::move(options)) {
  if (options_.command.empty() || options_.command.front().empty()) {
    throw std::invalid_argument("supervisor_options::command: empty");
  }
  auto found = find_executable(options_.command.front());
  if (!found) {
    throw std::invalid_argument(fmt::format("supervisor_options::command: '{}' is not an executable file{}",
                                            options_.command.front(),
                                            options_.command.front().find('/') == std::string::npos ? " in PATH" : ""));
  }
  executable_ = std::move(*found);
  if (!options_.depth) throw std::invalid_argument("supervisor_options::depth: no depth function");
  validate(options_.scale);
  validate(options_.restart_backoff);
  if (options_.reap_interval <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("supervisor_options::reap_interval: must be above zero");
  }
  if (options_.stop_grace < std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("supervisor_options::stop_grace: negative");
  }
}

auto supervisor::run(std::stop_token stop) -> supervisor_report {
  supervision s{options_, executable_};
  return s.run(stop);
}

}  // namespace pipeline
