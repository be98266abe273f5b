#pragma once

// One libpq connection (PGconn*) and its results (PGresult*), each owned by RAII, the
// parameters of a statement as libpq takes them, and the mapping of SQLSTATEs onto
// error_kind. Only src/postgres sees <libpq-fe.h>.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include <pipeline/error.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/detail/connection_pool.hpp>
#include <pipeline/detail/keyset_reader.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

namespace pipeline::postgres::detail {

/// The classification of a SQLSTATE (see database.hpp).
[[nodiscard]] auto kind_of(std::string_view sqlstate) noexcept -> error_kind;

/// Whether `e` says the server is away (refused, lost, starting, shutting down: worth waiting
/// out) rather than answering.
[[nodiscard]] auto is_outage(const error& e) noexcept -> bool;

/// "<context>: [<sqlstate>] <message>", backend "postgres".
[[nodiscard]] auto make_error(std::string_view sqlstate, std::string_view message, std::string_view context) -> error;

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
/// A result of libpq, cleared when it goes.
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

/// Values bound to $1 … $n: each with its type (0: the server infers it, for strings), sent
/// in binary except strings (text). Bytes stay where the caller's values are when they can.
class parameters {
 public:
  /// Sets $`index + 1`; an `invalid_input` error says why PostgreSQL cannot hold `v` as it is.
  [[nodiscard]] auto set(std::size_t index, const value& v) -> result<void>;
  /// $`index + 1` as BYTEA, copied.
  void set_bytes(std::size_t index, std::string_view v);
  void clear() noexcept { count_ = 0; }
  [[nodiscard]] auto size() const noexcept -> int { return static_cast<int>(count_); }
  /// The arrays PQexecParams takes, valid until the next `set` or `clear`.
  [[nodiscard]] auto types() const noexcept -> const Oid* { return types_.data(); }
  [[nodiscard]] auto values() -> const char* const*;
  [[nodiscard]] auto lengths() const noexcept -> const int* { return lengths_.data(); }
  [[nodiscard]] auto formats() const noexcept -> const int* { return formats_.data(); }

 private:
  void put(std::size_t index, Oid type, std::optional<std::string> data, int format);

  std::size_t count_ = 0;
  std::vector<Oid> types_;
  std::vector<std::optional<std::string>> data_;  // nullopt: NULL
  std::vector<const char*> values_;               // into data_, made by values()
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

/// An open connection. Not thread-safe: one user at a time (the pool hands it out).
class connection {
 public:
  /// Connects with `conninfo` (libpq keywords and values); `where` names the server in errors.
  [[nodiscard]] static auto open(const std::vector<std::pair<std::string, std::string>>& conninfo,
                                 std::string_view where) -> result<std::unique_ptr<connection>>;
  connection(const connection&) = delete;
  auto operator=(const connection&) -> connection& = delete;
  ~connection() { PQfinish(conn_); }

  /// Runs `sql` with `params` (or none); rows come back as text. `context` starts an error's
  /// message.
  [[nodiscard]] auto query(std::string_view sql, parameters* params, std::string_view context)
      -> result<result_ptr>;
  /// Statements without parameters (';'-separated) whose rows, if any, are not wanted (DDL,
  /// BEGIN, ROLLBACK).
  [[nodiscard]] auto execute(std::string_view sql) -> result<void>;
  /// Has the server parse and check `sql` (its tables and columns), without running it.
  [[nodiscard]] auto check(std::string_view sql) -> result<void>;
  /// COPY … FROM STDIN: `begin_copy` starts it, `send_copy` sends data (whole lines or not),
  /// `end_copy` ends it and returns the server's verdict. `end_copy(reason)` with a reason
  /// aborts it instead: nothing of it is stored, and the call succeeds once the server has
  /// let the COPY go (the caller reports why it gave up).
  [[nodiscard]] auto begin_copy(std::string_view sql, std::string_view context) -> result<void>;
  [[nodiscard]] auto send_copy(std::string_view data, std::string_view context) -> result<void>;
  [[nodiscard]] auto end_copy(const char* abort_reason, std::string_view context) -> result<void>;
  /// The error of a failed call (`r` may be null), the connection marked broken when it is lost.
  [[nodiscard]] auto failure(const PGresult* r, std::string_view context) -> error;
  /// Lost, or outside an idle transaction state: not to be pooled.
  [[nodiscard]] auto reusable() const noexcept -> bool {
    return !broken_ && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }
  [[nodiscard]] auto backend_pid() const noexcept -> int { return PQbackendPID(conn_); }
  /// Waits up to `timeout` for a notification of a channel this connection LISTENs on (poll
  /// on its socket) and takes every one that arrived: true when any did. An error when the
  /// connection is lost.
  [[nodiscard]] auto wait_for_notification(std::chrono::milliseconds timeout) -> result<bool>;

 private:
  explicit connection(PGconn* conn) noexcept : conn_(conn) {}
  PGconn* conn_;
  bool broken_ = false;
};

/// A connection borrowed from a database's pool for one operation; given back when
/// destroyed, or closed if it cannot be reused.
using lease = pipeline::detail::pool_lease<connection>;

struct database_access : pipeline::detail::pool_access<database_access, database, connection, &is_outage> {
  [[nodiscard]] static auto pool(database& db) noexcept -> pipeline::detail::connection_pool<connection>& {
    return db.pool_;
  }
  /// A new connection to `db`.
  [[nodiscard]] static auto open(database& db) -> result<std::unique_ptr<connection>>;
};

/// `name` double-quoted, after checking that it is an identifier (throws
/// std::invalid_argument naming `what` otherwise).
[[nodiscard]] auto quoted_identifier(std::string_view name, std::string_view what) -> std::string;

/// Throws std::invalid_argument ("<what>: db is null") when `db` is null.
void require_database(const std::shared_ptr<database>& db, std::string_view what);

/// A BYTEA column's text ("\x0a1b…") as its bytes; other text as it is.
[[nodiscard]] auto bytea_bytes(std::string_view text) -> std::string;

/// A TIMESTAMPTZ as the server writes it under DateStyle ISO and TimeZone UTC
/// ("2024-03-01 12:00:00.00025+00"); nullopt for anything else (infinity, BC, years past 9999).
[[nodiscard]] auto parse_timestamptz(std::string_view text) -> std::optional<timestamp>;

/// How this adapter's sources and planners spell their SQL (defined in keyset_source.cpp).
extern const pipeline::detail::sql_spelling spelling;

}  // namespace pipeline::postgres::detail

namespace pipeline::postgres {

/// `detail::spelling`, found by argument-dependent lookup from the sources and planners
/// written once in src/relational/.
[[nodiscard]] inline auto sql_spelling_of(const database* /*db*/) -> const pipeline::detail::sql_spelling& {
  return detail::spelling;
}

}  // namespace pipeline::postgres
