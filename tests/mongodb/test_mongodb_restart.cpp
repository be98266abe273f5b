// The server stops and comes back while the adapter is in use. Each test starts its OWN
// CongoDB (tests/services/congodb/server.mjs, installed by scripts/services.sh) on a free
// port, and kills it on every path. CongoDB keeps data in memory only, so what was written
// before the stop is gone after it: these tests cannot prove durability across a restart
// (a real mongod with a journal would). What they prove: the client reports the outage
// clearly, as a transient error, reconnects by itself, and the runner's retries carry the
// run to completion with every record written after the restart present exactly once.
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/mongodb/mongodb.hpp>
#include <pipeline/runner.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mongodb/mongodb_test_support.hpp"  // for its TSan suppressions

extern char** environ;

namespace {

using namespace pipeline::mongodb;
using namespace std::chrono_literals;

auto free_port() -> int {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof addr;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
  ::close(fd);
  if (!bound) throw std::runtime_error("no free port on 127.0.0.1");
  return ntohs(addr.sin_port);
}

auto accepts(int port) -> bool {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A CongoDB child process on one port; stopped (SIGTERM, then SIGKILL) by stop() and by the
// destructor, so that no path leaves it running.
class congodb {
 public:
  congodb() : port_(free_port()) { start(); }
  ~congodb() { stop(); }
  congodb(const congodb&) = delete;
  auto operator=(const congodb&) -> congodb& = delete;

  void start() {
    const std::string port = std::to_string(port_);
    const char* argv[] = {"node", PIPELINE_CONGODB_SERVER, port.c_str(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    const int spawned = posix_spawnp(&pid_, "node", &actions, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start node: " + std::string(std::strerror(spawned)));
    for (auto deadline = std::chrono::steady_clock::now() + 30s; !accepts(port_);) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("CongoDB exited while starting (run under scripts/services.sh, which installs it)");
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("CongoDB not listening after 30 s");
      std::this_thread::sleep_for(20ms);
    }
  }

  void stop() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 250 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(20ms);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  [[nodiscard]] auto uri() const -> std::string { return "mongodb://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  pid_t pid_ = -1;
};

auto rows(int first, int count) -> std::vector<pipeline::record> {
  std::vector<pipeline::record> out;
  for (int i = first; i < first + count; ++i) out.push_back({{"id", i}, {"name", "row-" + std::to_string(i)}});
  return out;
}

const client_options quick{.connect_timeout = 300ms, .server_selection_timeout = 500ms, .socket_timeout = 2000ms};

TEST(mongodb_restart, a_write_while_the_server_is_down_is_a_clear_transient_error_and_works_once_it_is_back) {
  congodb server;
  auto c = client::open(server.uri(), quick);
  auto sink = collection_sink(c, {.database = "restart", .collection = "items"});
  const auto before = rows(0, 10);
  ASSERT_TRUE(sink.write(std::span{before}, {}));

  server.stop();
  const auto during = rows(10, 10);
  auto failed = sink.write(std::span{during}, {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, pipeline::error_kind::transient) << fmt::format("{}", failed.error());
  EXPECT_THAT(failed.error().message, ::testing::HasSubstr("bulk write to restart.items"));

  server.start();
  ASSERT_TRUE(sink.write(std::span{during}, {}));  // the same pool reconnects by itself
  EXPECT_EQ(c->count("restart", "items").value(), 10);  // the first 10 died with the server's memory
}

TEST(mongodb_restart, a_run_outlives_a_server_restart_through_its_retries) {
  congodb server;
  auto c = client::open(server.uri(), quick);
  auto sink = collection_sink(c, {.database = "restart", .collection = "items", .mode = write_mode::upsert,
                                        .key_fields = {"id"}});
  pipeline::vector_source<pipeline::record> source{rows(0, 2000), 50};
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  std::jthread restarter;
  std::atomic<bool> stopped_once{false};
  // One worker, so batches are written in order: the batch holding id 500 is the first one
  // written after the server stopped, and every batch from it on must be in the new server.
  auto outage = [&](const pipeline::record& r) {
    if (*r.find("id") == pipeline::value{500} && !stopped_once.exchange(true)) {
      server.stop();
      restarter = std::jthread([&] {
        std::this_thread::sleep_for(1500ms);
        server.start();
      });
    }
    return r;
  };
  auto report = pipeline::run(source, outage, sink, dlq, checkpoints,
                              {.name = "restart", .workers = 1,
                               .retry = {.initial = 100ms, .max_delay = 500ms, .max_attempts = 60}});
  restarter = {};  // joined: the server is up again (or the test failed already)
  EXPECT_EQ(report.status, pipeline::run_status::completed) << (report.failure ? report.failure->message : "");
  EXPECT_TRUE(stopped_once.load());
  EXPECT_EQ(report.written, 2000u);
  EXPECT_EQ(report.dead_lettered, 0u);
  EXPECT_GT(report.retried, 0u);
  EXPECT_EQ(c->count("restart", "items", R"({"id": {"$gte": 500}})").value(), 1500);
  EXPECT_EQ(c->count("restart", "items").value(), 1500);
}

}  // namespace
