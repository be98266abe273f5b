// The server stops and comes back while the adapter is in use. Each test starts its OWN
// CongoDB (tests/services/congodb/server.mjs, installed by scripts/services.sh) on a free
// port, and kills it on every path. CongoDB keeps its data in memory; given a data file it
// writes it there on a clean stop and loads it at the next start, so what was written before
// a restart is there after it. What these tests prove: operations wait out an outage (at the
// first operation and mid-run), log its start and end once, give up after the outage budget
// with a transient error saying so, stop waiting when asked, read a source's batch again on a
// new cursor, and a run goes on across a restart with every record written once.
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/mongodb/mongodb.hpp>
#include <pipeline/runner.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <cstring>
#include <stdexcept>
#include <stop_token>
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
#include "support/captured_log.hpp"

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
  /// Started now; with `data_file`, keeping its data across a clean restart.
  explicit congodb(std::string data_file = {}) : port_(free_port()), data_file_(std::move(data_file)) { start(); }
  ~congodb() { stop(); }
  congodb(const congodb&) = delete;
  auto operator=(const congodb&) -> congodb& = delete;

  void start() {
    const std::string port = std::to_string(port_);
    const char* argv[] = {"node", PIPELINE_CONGODB_SERVER, port.c_str(),
                          data_file_.empty() ? nullptr : data_file_.c_str(), nullptr};
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

  /// A clean stop (SIGTERM: the data file is written), SIGKILL after 5 s.
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
  [[nodiscard]] auto port() const -> int { return port_; }

 private:
  int port_;
  std::string data_file_;
  pid_t pid_ = -1;
};

auto rows(int first, int count) -> std::vector<pipeline::record> {
  std::vector<pipeline::record> out;
  for (int i = first; i < first + count; ++i) out.push_back({{"id", i}, {"name", "row-" + std::to_string(i)}});
  return out;
}

// A try finds no server after 300 ms, so that the outage loop, not libmongoc's server
// selection, does the waiting.
auto quick(pipeline::test::captured_log& log, std::chrono::milliseconds budget = pipeline::detail::default_outage_budget)
    -> client_options {
  return {.connect_timeout = 300ms, .server_selection_timeout = 300ms, .socket_timeout = 2000ms,
          .outage_budget = budget, .log = log.logger()};
}

// Starts `server` again `delay` from now, on another thread.
auto restart_after(congodb& server, std::chrono::milliseconds delay) -> std::jthread {
  return std::jthread{[&server, delay] {
    std::this_thread::sleep_for(delay);
    server.start();
  }};
}

// A file name of the test's own for a CongoDB data file, removed at the end.
class data_file {
 public:
  data_file() : path_(std::filesystem::temp_directory_path() / pipeline::test::unique_name("congodb")) {}
  ~data_file() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  data_file(const data_file&) = delete;
  auto operator=(const data_file&) -> data_file& = delete;
  [[nodiscard]] auto path() const -> std::string { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(mongodb_restart, the_first_operation_waits_for_a_server_not_up_yet_and_logs_it_once) {
  congodb server;
  server.stop();
  pipeline::test::captured_log log;
  auto c = client::open(server.uri(), quick(log));
  auto restart = restart_after(server, 1500ms);
  const auto start = std::chrono::steady_clock::now();
  auto up = c->ping();
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1400ms);
  EXPECT_EQ(log.count("waiting up to 300.0 s for it to come back"), 1u);
  EXPECT_EQ(log.count(fmt::format("mongodb: 127.0.0.1:{} unavailable", server.port())), 1u);
  EXPECT_EQ(log.count("is back after"), 1u);
}

TEST(mongodb_restart, a_write_while_the_server_is_down_waits_and_is_written_once_it_is_back) {
  congodb server;
  pipeline::test::captured_log log;
  auto c = client::open(server.uri(), quick(log));
  auto sink = collection_sink(c, {.database = "restart", .collection = "items"});
  server.stop();
  auto restart = restart_after(server, 1500ms);
  const auto during = rows(0, 10);
  auto written = sink.write(std::span{during}, {});
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(c->count("restart", "items").value(), 10);
  EXPECT_EQ(log.count("is back after"), 1u);
}

TEST(mongodb_restart, without_an_outage_budget_a_write_while_the_server_is_down_is_a_clear_transient_error) {
  congodb server;
  pipeline::test::captured_log log;
  auto c = client::open(server.uri(), quick(log, 0ms));
  auto sink = collection_sink(c, {.database = "restart", .collection = "items"});
  server.stop();
  const auto during = rows(0, 10);
  auto failed = sink.write(std::span{during}, {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, pipeline::error_kind::transient) << fmt::format("{}", failed.error());
  EXPECT_THAT(failed.error().message, ::testing::HasSubstr("bulk write to restart.items"));
  EXPECT_EQ(log.count("unavailable"), 0u);  // no waiting, so nothing to say
}

TEST(mongodb_restart, a_server_away_longer_than_the_budget_is_a_transient_error_saying_so) {
  congodb server;
  server.stop();
  pipeline::test::captured_log log;
  auto c = client::open(server.uri(), quick(log, 1000ms));
  const auto start = std::chrono::steady_clock::now();
  auto r = c->ping();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient);
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("longer than the outage budget (1.0 s)"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 950ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(mongodb_restart, the_uri_sets_the_outage_budget_in_milliseconds) {
  congodb server;
  server.stop();
  pipeline::test::captured_log log;
  auto c = client::open(server.uri() + "/?appname=t&outage-budget-ms=0", quick(log));
  auto r = c->ping();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient);
  EXPECT_EQ(log.count("unavailable"), 0u);
  EXPECT_THROW((void)client::open(server.uri() + "/?outage-budget-ms=soon"), std::invalid_argument);
  EXPECT_THROW((void)client::open(server.uri() + "/?outage-budget-ms=-1"), std::invalid_argument);
}

TEST(mongodb_restart, a_stop_ends_the_wait) {
  congodb server;
  server.stop();
  pipeline::test::captured_log log;
  auto c = client::open(server.uri(), quick(log));
  auto sink = collection_sink(c, {.database = "restart", .collection = "items"});
  std::stop_source stop;
  std::jthread stopper{[&] {
    std::this_thread::sleep_for(500ms);
    stop.request_stop();
  }};
  const auto start = std::chrono::steady_clock::now();
  const auto some = rows(0, 3);
  auto r = sink.write(std::span{some}, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::stopped);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// A CongoDB that keeps its data across a restart, a client of it and an upsert sink by "id".
struct kept_data {
  data_file file;
  congodb server{file.path()};
  pipeline::test::captured_log log;
  std::shared_ptr<client> c = client::open(server.uri(), quick(log));
  collection_sink sink{c, {.database = "restart", .collection = "items", .mode = write_mode::upsert, .key_fields = {"id"}}};
};

TEST(mongodb_restart, a_batch_whose_cursor_is_lost_in_a_restart_is_read_again_after_the_last_one) {
  kept_data k;
  auto& [file, server, log, c, sink] = k;
  const auto all = rows(1, 100);
  ASSERT_TRUE(sink.write(std::span{all}, {}));
  auto source = collection_source(c, {.database = "restart", .collection = "items", .key = "id", .batch_size = 60});
  ASSERT_EQ(source.next_batch({}).value()->records.size(), 60u);
  server.stop();  // the open cursor dies with the server
  auto restart = restart_after(server, 1000ms);
  auto page = source.next_batch({});
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_TRUE(page->has_value());
  EXPECT_EQ((*page)->records.size(), 40u);
  EXPECT_EQ((*page)->records.front().find("id")->get<std::int64_t>(), 61);
  EXPECT_EQ(log.count("is back after"), 1u);
}

TEST(mongodb_restart, a_run_outlives_a_server_restart_and_writes_every_record_once) {
  kept_data k;
  auto& [file, server, log, c, sink] = k;
  pipeline::vector_source<pipeline::record> source{rows(0, 2000), 50};
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  std::jthread restarter;
  std::atomic<bool> stopped_once{false};
  auto outage = [&, &restarted = server](const pipeline::record& r) {  // clang 14 captures no structured binding
    if (*r.find("id") == pipeline::value{500} && !stopped_once.exchange(true)) {
      restarted.stop();
      restarter = restart_after(restarted, 1500ms);
    }
    return r;
  };
  auto report = pipeline::run(source, outage, sink, dlq, checkpoints, {.name = "restart", .workers = 2});
  restarter = {};  // joined: the server is up again (or the test failed already)
  EXPECT_EQ(report.status, pipeline::run_status::completed) << (report.failure ? report.failure->message : "");
  EXPECT_TRUE(stopped_once.load());
  EXPECT_EQ(report.written, 2000u);
  EXPECT_EQ(report.dead_lettered, 0u);
  EXPECT_EQ(c->count("restart", "items").value(), 2000);
  EXPECT_GE(log.count("is back after"), 1u);
}

// The runner retries a save whose reply was lost; sent again, it must find itself done rather
// than a conflict (which would fail the run as if another runner had the job).
TEST(mongodb_restart, a_checkpoint_save_sent_again_after_a_lost_reply_finds_itself_done) {
  congodb server;
  pipeline::test::captured_log log;
  auto store = checkpoint_store::open(client::open(server.uri(), quick(log)), {.database = "restart"}).value();
  const pipeline::position first{"a"};
  ASSERT_EQ(store.save("job", first, 0).value(), 1u);
  EXPECT_EQ(store.save("job", first, 0).value(), 1u);  // the first save, sent again
  ASSERT_EQ(store.save("job", pipeline::position{"b"}, 1).value(), 2u);
  EXPECT_EQ(store.save("job", pipeline::position{"b"}, 1).value(), 2u);
  auto elsewhere = store.save("job", pipeline::position{"c"}, 1);  // another writer's position: a conflict
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().kind, pipeline::error_kind::conflict);
  EXPECT_EQ(store.load("job").value(), (pipeline::checkpoint{pipeline::position{"b"}, 2}));
}

}  // namespace
