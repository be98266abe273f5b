#pragma once

// The sqlite3 layer under pipeline::sqlite, private to src/sqlite/ (<sqlite3.h> never reaches
// a public header): RAII for sqlite3* and sqlite3_stmt*, the one mapping of result codes to
// error kinds, the per-connection statement cache, the lock that serialises a connection
// (`session`).

#include <sqlite3.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <pipeline/error.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite::detail {

/// The error kind of a sqlite result code, primary or extended: the only place codes are
/// classified (the table and the reason for each entry are in connection.cpp).
[[nodiscard]] auto classify(int code) noexcept -> error_kind;

/// An error from sqlite: kind from `classify`, `native_code` the extended result code,
/// backend "sqlite", message "<context>: <sqlite3_errmsg>". Build it right after the failing
/// call, before anything else runs on the connection and replaces the message.
[[nodiscard]] auto sqlite_error(sqlite3* db, int code, std::string_view context) -> error;

struct connection_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct statement_finalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using connection_handle = std::unique_ptr<sqlite3, connection_closer>;
using statement_handle = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

/// A cached prepared statement, lent for one use: bind, step, read columns. When it goes it
/// resets and clears its bindings, so the next user starts clean. Values are copied when
/// bound (but by `bind_text_unowned`). A failed bind is kept and reported by the next
/// `step`, so callers bind without checking each call. Parameter and column indexes are
/// sqlite's (parameters from 1, columns from 0).
class statement {
 public:
  statement(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
  statement(statement&& other) noexcept;
  statement(const statement&) = delete;
  auto operator=(const statement&) -> statement& = delete;
  auto operator=(statement&&) -> statement& = delete;
  ~statement();

  void bind_null(int index) noexcept;
  void bind_int64(int index, std::int64_t v) noexcept;
  void bind_double(int index, double v) noexcept;
  /// UTF-8 text of exactly `v.size()` bytes: embedded NULs are kept.
  void bind_text(int index, std::string_view v) noexcept;
  /// A BLOB; an empty one stays an empty BLOB (not NULL).
  void bind_blob(int index, std::span<const std::byte> v) noexcept;
  void bind_blob(int index, std::string_view v) noexcept { bind_blob(index, std::as_bytes(std::span{v})); }

  /// Text bound without a copy: `v` must stay valid until the statement is stepped for the
  /// last time with it (a row loop rebinds every parameter of each row; the binding is
  /// cleared when this object goes).
  void bind_text_unowned(int index, std::string_view v) noexcept;

  /// Runs one step: true when a row is ready to read, false when the statement is done.
  /// `context` starts the error's message ("inserting row 3 of 10 into \"orders\"").
  [[nodiscard]] auto step(std::string_view context) -> result<bool> {
    return step([context] { return context; });
  }
  /// The same, the context made by `context()` only when the step fails: a loop over many
  /// rows formats nothing for the rows that go in.
  template <std::invocable Context>
  [[nodiscard]] auto step(const Context& context) -> result<bool> {
    if (bind_failure_ != SQLITE_OK) return sqlite_error(db_, bind_failure_, context());
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(db_, rc, context());
  }
  /// Back to the start, bindings kept, for the next row.
  void reset() noexcept;

  [[nodiscard]] auto column_count() const noexcept -> int;
  [[nodiscard]] auto column_is_null(int column) const noexcept -> bool;
  [[nodiscard]] auto column_int64(int column) const noexcept -> std::int64_t;
  /// Text or BLOB bytes of the column (empty for NULL); valid until the next step.
  [[nodiscard]] auto column_bytes(int column) const noexcept -> std::string_view;

 private:
  void keep_failure(int rc) noexcept;
  // SQLITE_TRANSIENT copies the text, SQLITE_STATIC does not.
  void bind_text_as(int index, std::string_view v, sqlite3_destructor_type lifetime) noexcept;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_failure_ = SQLITE_OK;
};

/// One sqlite3 connection with its statement cache, and the mutex that serialises it. Used
/// only through a `session`.
class connection {
 public:
  /// Opens `path` with the options (journal mode, synchronous, busy timeout) applied; the
  /// options were checked by `database::open`.
  [[nodiscard]] static auto open(const std::string& path, const database_options& options)
      -> result<std::unique_ptr<connection>>;

  connection(const connection&) = delete;
  auto operator=(const connection&) -> connection& = delete;

 private:
  friend class session;
  explicit connection(connection_handle db) noexcept : db_(std::move(db)) {}

  std::mutex mutex_;
  connection_handle db_;
  std::map<std::string, statement_handle, std::less<>> statements_;  // finalized before db_ closes
};

/// The connection inside a `database`, for the adapters of this component.
struct database_access {
  [[nodiscard]] static auto connection_of(database& db) noexcept -> connection& { return *db.connection_; }
};

/// A connection held for one operation: locked from construction to destruction, so that a
/// transaction, its statements and the error message read after a failure all belong to the
/// same caller.
class session {
 public:
  explicit session(connection& c) : lock_(c.mutex_), connection_(c) {}
  explicit session(database& db) : session(database_access::connection_of(db)) {}

  /// The statement for `sql` (one statement), prepared on first use and kept for the life of
  /// the connection.
  [[nodiscard]] auto prepare(std::string_view sql) -> result<statement>;
  /// Runs `sql` (no parameters) to its end, ignoring rows: DDL, pragmas, BEGIN and COMMIT.
  [[nodiscard]] auto execute(std::string_view sql) -> result<void>;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  [[nodiscard]] auto changes() const noexcept -> int;
  [[nodiscard]] auto last_insert_id() const noexcept -> std::int64_t;
  /// Whether a transaction is open on the connection.
  [[nodiscard]] auto in_transaction() const noexcept -> bool;

 private:
  std::unique_lock<std::mutex> lock_;
  connection& connection_;
};

}  // namespace pipeline::sqlite::detail
