#pragma once

// One Connector/C connection (MYSQL*) and its prepared statements (MYSQL_STMT*), each owned
// by RAII, and the mapping of mysql_errno onto error_kind. Only src/mysql sees <mysql.h>.

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

#include <mysql.h>

#include <pipeline/error.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/detail/connection_pool.hpp>
#include <pipeline/detail/keyset_reader.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mysql::detail {

/// The classification of a client or server error number (see database.hpp).
[[nodiscard]] auto kind_of(unsigned int code) noexcept -> error_kind;

/// Whether the error leaves the connection unusable (lost, killed, gone away).
[[nodiscard]] auto breaks_connection(unsigned int code) noexcept -> bool;

/// Whether `e` says the server is away (refused, lost, shutting down: worth waiting out)
/// rather than answering.
[[nodiscard]] auto is_outage(const error& e) noexcept -> bool;

/// "<context>: <message>" with the code kept, backend "mysql".
[[nodiscard]] auto make_error(unsigned int code, std::string_view message, std::string_view context) -> error;

class connection;

/// A prepared statement. Closed (mysql_stmt_close) when destroyed; not thread-safe.
class statement {
 public:
  statement(MYSQL_STMT* st, connection& owner) noexcept : st_(st), owner_(&owner) {}
  statement(statement&& other) noexcept
      : st_(std::exchange(other.st_, nullptr)), owner_(other.owner_) {}
  auto operator=(statement&&) -> statement& = delete;
  statement(const statement&) = delete;
  ~statement();

  [[nodiscard]] auto get() const noexcept -> MYSQL_STMT* { return st_; }
  /// The statement's last error, the connection marked broken when it is lost.
  [[nodiscard]] auto failure(std::string_view context) -> error;
  /// Binds `params` (may be null when the statement has none) and executes.
  [[nodiscard]] auto execute(MYSQL_BIND* params, std::string_view context) -> result<void>;
  [[nodiscard]] auto affected_rows() const noexcept -> std::uint64_t { return mysql_stmt_affected_rows(st_); }

 private:
  MYSQL_STMT* st_;
  connection* owner_;
};

/// An open connection. Not thread-safe: one user at a time (the pool hands it out).
class connection {
 public:
  [[nodiscard]] static auto open(const endpoint& where, const database_options& options)
      -> result<std::unique_ptr<connection>>;
  connection(const connection&) = delete;
  auto operator=(const connection&) -> connection& = delete;
  ~connection();

  [[nodiscard]] auto handle() const noexcept -> MYSQL* { return mysql_; }
  /// mysql_real_query; rows of a SELECT must be read by the caller.
  [[nodiscard]] auto query(std::string_view sql, std::string_view context) -> result<void>;
  /// A statement that returns no rows.
  [[nodiscard]] auto execute(std::string_view sql) -> result<void> { return query(sql, sql); }
  [[nodiscard]] auto prepare(std::string_view sql) -> result<statement>;
  /// The connection's last error; marks it broken when the error loses the connection.
  [[nodiscard]] auto failure(std::string_view context) -> error;
  /// Records `code` and marks the connection broken when it loses the connection.
  void note(unsigned int code) noexcept;
  [[nodiscard]] auto broken() const noexcept -> bool { return broken_; }
  /// Not broken: the pool may keep it.
  [[nodiscard]] auto reusable() const noexcept -> bool { return !broken_; }
  void mark_broken() noexcept { broken_ = true; }
  [[nodiscard]] auto thread_id() const noexcept -> unsigned long { return mysql_thread_id(mysql_); }

 private:
  explicit connection(MYSQL* mysql) noexcept : mysql_(mysql) {}
  MYSQL* mysql_;
  bool broken_ = false;
};

/// A connection borrowed from a database's pool for one operation; given back when
/// destroyed, or closed if it broke.
using lease = pipeline::detail::pool_lease<connection>;

struct database_access : pipeline::detail::pool_access<database_access, database, connection, &is_outage> {
  [[nodiscard]] static auto pool(database& db) noexcept -> pipeline::detail::connection_pool<connection>& {
    return db.pool_;
  }
  [[nodiscard]] static auto open(database& db) -> result<std::unique_ptr<connection>> {
    return connection::open(db.endpoint_, db.options_);
  }
};

/// `name` backtick-quoted, after checking that it is an identifier (throws
/// std::invalid_argument naming `what` otherwise).
[[nodiscard]] auto quoted_identifier(std::string_view name, std::string_view what) -> std::string;

/// Throws std::invalid_argument ("<what>: db is null") when `db` is null.
void require_database(const std::shared_ptr<database>& db, std::string_view what);

/// How this adapter's sources and planners spell their SQL (defined in keyset_source.cpp).
extern const pipeline::detail::sql_spelling spelling;

}  // namespace pipeline::mysql::detail

namespace pipeline::mysql {

/// `detail::spelling`, found by argument-dependent lookup from the sources and planners
/// written once in src/relational/.
[[nodiscard]] inline auto sql_spelling_of(const database* /*db*/) -> const pipeline::detail::sql_spelling& {
  return detail::spelling;
}

}  // namespace pipeline::mysql
