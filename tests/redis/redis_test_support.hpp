#pragma once
// What the Redis tests share: the suite's server (from scripts/services.sh), and a private
// redis-server a fault test may pause, kill or restart, killed on every path.

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <pipeline/redis/client.hpp>

#include "support/captured_log.hpp"
#include "support/services.hpp"

namespace redis_test {

inline auto suite_uri() -> std::string { return pipeline::test::service_uri("PIPELINE_REDIS_TEST_URI"); }

inline auto connect(std::string uri = suite_uri()) -> std::shared_ptr<pipeline::redis::client> {
  return pipeline::redis::client::connect({.uri = std::move(uri)}).value();
}

// Binds a TCP socket on 127.0.0.1:`port` (0: the kernel's pick) and returns the port bound,
// released at once; 0 when that port is taken.
inline auto bind_and_release(std::uint16_t port) -> std::uint16_t {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  socklen_t len = sizeof a;
  const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (fd >= 0) ::close(fd);
  return bound ? ntohs(a.sin_port) : 0;
}

// A port nobody listens on right now (the kernel's pick, released at once).
inline auto free_port() -> std::uint16_t {
  const auto port = bind_and_release(0);
  if (port == 0) throw std::runtime_error("free_port: no port");
  return port;
}

// A free port for a Redis Cluster node: its bus listens 10000 above, so at most 55535, and
// that port free too.
inline auto free_cluster_port() -> std::uint16_t {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = free_port();
    if (port <= 55535 && bind_and_release(static_cast<std::uint16_t>(port + 10000)) != 0) return port;
  }
  throw std::runtime_error("free_cluster_port: no port");
}

// A child process, killed (SIGKILL) and reaped when it goes out of scope.
class child_process {
 public:
  explicit child_process(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  child_process(const child_process&) = delete;
  auto operator=(const child_process&) -> child_process& = delete;
  ~child_process() { kill(SIGKILL); }

  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Kills and reaps; returns the wait status.
  auto kill(int sig) -> int {
    if (pid_ <= 0) return status_;
    ::kill(pid_, sig);
    ::waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }
  // Waits up to `limit` for the exit; true with the status when it exited.
  auto wait_for(std::chrono::milliseconds limit) -> bool {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (pid_ > 0) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return true;
  }
  [[nodiscard]] auto status() const noexcept -> int { return status_; }
  [[nodiscard]] auto running() const noexcept -> bool { return pid_ > 0; }
  [[nodiscard]] auto pid() const noexcept -> pid_t { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

// The client's log messages, debug included: what it did, for tests to check.
using pipeline::test::captured_log;

// A redis-server of the test's own on a free port and in a temporary directory, for tests that
// pause, kill or restart it. `extra` adds options (e.g. {"--requirepass", "s3cret"}).
class private_server {
 public:
  explicit private_server(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("pipeline_redis_{}_{}", ::getpid(), counter()++);
    std::filesystem::create_directories(dir_);
    const bool cluster_node = std::find(extra_.begin(), extra_.end(), "--cluster-enabled") != extra_.end();
    port_ = cluster_node ? free_cluster_port() : free_port();
    start();
  }
  private_server(const private_server&) = delete;
  auto operator=(const private_server&) -> private_server& = delete;
  ~private_server() {
    process_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void start() {
    std::vector<std::string> argv{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir",
                                  dir_.string(), "--save", "", "--daemonize", "no", "--logfile",
                                  (dir_ / "log").string()};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    process_ = std::make_unique<child_process>(argv);
    // Ready when it answers (a PING reply, or NOAUTH when a password is set).
    for (int i = 0; i < 200; ++i) {
      auto c = pipeline::redis::client::connect({.uri = fmt::format("redis://127.0.0.1:{}/0", port_),
                                                  .connect_timeout = std::chrono::milliseconds{200},
                                                  .outage_budget = std::chrono::milliseconds{0}});
      if (c || c.error().kind != pipeline::error_kind::transient) return;
      std::this_thread::sleep_for(std::chrono::milliseconds{25});
    }
    throw std::runtime_error(fmt::format("redis-server on port {} did not start", port_));
  }
  void kill() { process_->kill(SIGKILL); }
  void stop_gracefully() { process_->kill(SIGTERM); }
  void pause() { process_->signal(SIGSTOP); }
  void resume() { process_->signal(SIGCONT); }

  [[nodiscard]] auto port() const noexcept -> std::uint16_t { return port_; }
  [[nodiscard]] auto uri() const -> std::string { return fmt::format("redis://127.0.0.1:{}/0", port_); }

 private:
  static auto counter() -> int& {
    static int n = 0;
    return n;
  }
  std::vector<std::string> extra_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace redis_test
