#pragma once

// Shared by the tests of pipeline::sqlite: a database file per test, removed afterwards, and a
// plain sqlite3 connection for what the tests do beside the library (create the user's
// tables, read rows back, hold a lock from "another process").

#include <sqlite3.h>
#include <unistd.h>  // getpid

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include <pipeline/record.hpp>
#include <pipeline/sqlite/database.hpp>

// GoogleTest prints values and records readably when a comparison fails.
namespace pipeline {
inline void PrintTo(const value& v, std::ostream* os) { *os << fmt::format("{}", v); }
inline void PrintTo(const record& r, std::ostream* os) { *os << fmt::format("{}", r); }
}  // namespace pipeline

namespace sqlite_test {

/// A database path under the system's temporary directory that nothing uses yet. The file
/// and sqlite's companions (-wal, -shm, -journal) are removed when this goes.
class temp_database_file {
 public:
  temp_database_file()
      : path_(std::filesystem::temp_directory_path() /
              fmt::format("pipeline-sqlite-{}-{}.db", ::getpid(), next_number_.fetch_add(1))) {}
  temp_database_file(const temp_database_file&) = delete;
  auto operator=(const temp_database_file&) -> temp_database_file& = delete;
  ~temp_database_file() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::error_code ignored;
      std::filesystem::remove(path_.string() + suffix, ignored);
    }
  }

  [[nodiscard]] auto path() const -> std::string { return path_.string(); }

  /// The library's connection to this file; fails the test by throwing when it cannot open.
  [[nodiscard]] auto open(const pipeline::sqlite::database_options& options = {}) const
      -> std::shared_ptr<pipeline::sqlite::database> {
    return pipeline::sqlite::database::open(path(), options).value();
  }

 private:
  static inline std::atomic<int> next_number_{0};
  std::filesystem::path path_;
};

/// A second, plain sqlite3 connection to a database file. Errors throw std::runtime_error
/// with sqlite's message, which fails the test that hit them.
class raw_connection {
 public:
  explicit raw_connection(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) fail(rc, "open");
    sqlite3_busy_timeout(raw, 5000);
  }

  /// Runs one or more statements without parameters.
  void exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message);
    const std::string text = message != nullptr ? message : "";
    sqlite3_free(message);
    if (rc != SQLITE_OK) throw std::runtime_error(fmt::format("{}: {}", sql, text));
  }

  /// The rows of one query, each a record named by its columns: NULL → null, INTEGER → int64,
  /// REAL → double, TEXT → string, BLOB → bytes.
  [[nodiscard]] auto rows(const std::string& sql) -> std::vector<pipeline::record> {
    sqlite3_stmt* raw = nullptr;
    if (const int rc = sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr); rc != SQLITE_OK) fail(rc, sql);
    const std::unique_ptr<sqlite3_stmt, finalizer> st{raw};
    std::vector<pipeline::record> out;
    for (int rc = sqlite3_step(raw); rc != SQLITE_DONE; rc = sqlite3_step(raw)) {
      if (rc != SQLITE_ROW) fail(rc, sql);
      pipeline::record r;
      for (int c = 0; c < sqlite3_column_count(raw); ++c) r.set(sqlite3_column_name(raw, c), column(raw, c));
      out.push_back(std::move(r));
    }
    return out;
  }

  /// The one value of a one-row, one-column query.
  [[nodiscard]] auto scalar(const std::string& sql) -> pipeline::value {
    auto all = rows(sql);
    if (all.size() != 1 || all.front().size() != 1) throw std::runtime_error(sql + ": not one value");
    return all.front().begin()->second;
  }

  /// The names of the tables in the database, in name order.
  [[nodiscard]] auto tables() -> std::vector<std::string> {
    std::vector<std::string> names;
    for (const auto& r : rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
      names.push_back(r.find("name")->get<std::string>());
    }
    return names;
  }

 private:
  struct closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  struct finalizer {
    void operator()(sqlite3_stmt* st) const noexcept { sqlite3_finalize(st); }
  };

  static auto column(sqlite3_stmt* st, int c) -> pipeline::value {
    switch (sqlite3_column_type(st, c)) {
      case SQLITE_INTEGER: return sqlite3_column_int64(st, c);
      case SQLITE_FLOAT: return sqlite3_column_double(st, c);
      case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(st, c)));
      }
      case SQLITE_BLOB: {
        const auto* data = static_cast<const std::byte*>(sqlite3_column_blob(st, c));
        return pipeline::bytes(data, data + sqlite3_column_bytes(st, c));
      }
      default: return nullptr;
    }
  }

  [[noreturn]] void fail(int rc, const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: {} ({})", what, sqlite3_errmsg(db_.get()), rc));
  }

  std::unique_ptr<sqlite3, closer> db_;
};

}  // namespace sqlite_test
