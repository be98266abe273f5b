#pragma once
// What the MySQL tests share: the server from PIPELINE_MYSQL_TEST_URI (the test fails when it
// is unset), tables named apart per test, rows read back through a cursor, and a private
// mariadbd a test may stop and start (for the restart test), killed on every path.

#include <pipeline/mysql/mysql.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/relational_contracts.hpp"
#include "support/services.hpp"

namespace mysql_test {

inline auto uri() -> std::string { return pipeline::test::service_uri("PIPELINE_MYSQL_TEST_URI"); }

inline auto open_db(const std::string& where = uri()) -> std::shared_ptr<pipeline::mysql::database> {
  return pipeline::mysql::database::open(where).value();
}

// A table name no other test, process or preset shares, within MySQL's 64 characters: the
// prefix and a hash of the long unique name.
inline auto table_name(std::string_view prefix) -> std::string {
  const auto full = pipeline::test::unique_name(prefix);
  if (full.size() <= 64) return full;
  return fmt::format("{}_{:016x}", prefix.substr(0, 40), std::hash<std::string>{}(full));
}

inline void exec(pipeline::mysql::database& db, const std::string& sql) {
  auto r = pipeline::mysql::execute(db, sql);
  if (!r) throw std::runtime_error(fmt::format("{}: {}", sql, r.error()));
}

// Every row of `sql`, read through a cursor_source.
inline auto rows(const std::shared_ptr<pipeline::mysql::database>& db, const std::string& sql)
    -> std::vector<pipeline::record> {
  auto src = pipeline::mysql::cursor_source::open(db, {.query = sql}).value();
  std::vector<pipeline::record> out;
  while (auto b = src.next_batch({}).value()) {
    if (!b->rejected.empty()) throw std::runtime_error(fmt::format("rejected: {}", b->rejected.front().reason));
    for (auto& r : b->records) out.push_back(std::move(r));
  }
  return out;
}

inline auto count(pipeline::mysql::database& db, const std::string& table) -> std::int64_t {
  return pipeline::mysql::query_int64(db, fmt::format("SELECT COUNT(*) FROM `{}`", table)).value().at(0).value();
}

// The adapter as tests/support/relational_contracts.hpp takes it.
struct server {
  using database = pipeline::mysql::database;
  using table_sink = pipeline::mysql::table_sink;
  using table_sink_options = pipeline::mysql::table_sink_options;
  using write_mode = pipeline::mysql::write_mode;
  using checkpoint_store = pipeline::mysql::checkpoint_store;
  using checkpoint_store_options = pipeline::mysql::checkpoint_store_options;
  using dead_letter_table = pipeline::mysql::dead_letter_table;
  using job_log = pipeline::mysql::job_log;
  using job_log_options = pipeline::mysql::job_log_options;
  using keyset_source = pipeline::mysql::keyset_source;
  using cursor_source = pipeline::mysql::cursor_source;
  static auto open_db() { return mysql_test::open_db(); }
  static auto table_name(std::string_view prefix) { return mysql_test::table_name(prefix); }
  static auto quote(std::string_view name) { return fmt::format("`{}`", name); }
  static void exec(database& db, const std::string& sql) { mysql_test::exec(db, sql); }
  static auto rows(const std::shared_ptr<database>& db, const std::string& sql) { return mysql_test::rows(db, sql); }
  static void drop(database& db, const std::string& table) {
    (void)pipeline::mysql::execute(db, fmt::format("DROP TABLE IF EXISTS {}", quote(table)));
  }
};

// Drops its tables when the test ends, pass or fail.
using dropped_tables = pipeline::test::dropped_tables<server>;

// A free TCP port on 127.0.0.1 (bind to 0, read it, close).
inline auto free_port() -> int {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline void run_or_throw(const std::string& command) {
  if (std::system(command.c_str()) != 0) throw std::runtime_error(fmt::format("failed: {}", command));
}

// A mariadbd of the test's own, in a temporary data directory, started by `start()` and
// stopped by `stop()` (SIGKILL: like a crash) and always by the destructor.
class private_server {
 public:
  private_server() : port_(free_port()) {
    char pattern[] = "/tmp/pipeline-mariadbd-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~private_server() {
    kill_now();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  private_server(const private_server&) = delete;
  auto operator=(const private_server&) -> private_server& = delete;

  void start() {
    const auto data = dir_ / "data";
    if (!initialised_) {
      run_or_throw(fmt::format("mariadb-install-db --user=root --datadir='{}' --auth-root-authentication-method=normal "
                               "--skip-test-db >'{}/install.log' 2>&1",
                               data.string(), dir_.string()));
    }
    const std::vector<std::string> args{"mariadbd", "--no-defaults", "--user=root", "--datadir=" + data.string(),
                                        "--socket=" + socket(), fmt::format("--port={}", port_),
                                        "--bind-address=127.0.0.1", "--skip-name-resolve",
                                        "--pid-file=" + (dir_ / "pid").string(),
                                        "--log-error=" + (dir_ / "err.log").string(), "--innodb-buffer-pool-size=64M"};
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execvp("mariadbd", argv.data());
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    while (std::system(fmt::format("mariadb-admin --socket='{}' -uroot ping >/dev/null 2>&1", socket()).c_str()) != 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(fmt::format("mariadbd exited while starting; see {}/err.log", dir_.string()));
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("mariadbd not ready after 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    if (!initialised_) {
      run_or_throw(fmt::format("mariadb --socket='{}' -uroot -e \"CREATE DATABASE pipe; CREATE USER 'pipe'@'127.0.0.1' "
                               "IDENTIFIED BY 'pipe-pass'; GRANT ALL ON *.* TO 'pipe'@'127.0.0.1';\"",
                               socket()));
      initialised_ = true;
    }
  }

  // SIGKILL, as a crash would end it; InnoDB recovers committed work at the next start.
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  [[nodiscard]] auto uri() const -> std::string {
    return fmt::format("mysql://pipe:pipe-pass@127.0.0.1:{}/pipe", port_);
  }

 private:
  [[nodiscard]] auto socket() const -> std::string { return (dir_ / "sock").string(); }

  std::filesystem::path dir_;
  int port_;
  pid_t pid_ = -1;
  bool initialised_ = false;
};

}  // namespace mysql_test
