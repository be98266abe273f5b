#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/backoff.hpp>
#include <pipeline/log.hpp>
#include <pipeline/detail/connection_pool.hpp>
#include <pipeline/detail/outage.hpp>
#include <pipeline/result.hpp>

namespace pipeline::postgres {

namespace detail {
class connection;
struct database_access;
}  // namespace detail

/// How a `database` connects. A plain struct: every field has a working default.
struct database_options {
  /// How long a connect may take (libpq's `connect_timeout`); the URI's `connect_timeout`
  /// wins when given.
  std::chrono::seconds connect_timeout{10};
  /// The server cancels a statement that runs longer (`statement_timeout`, SQLSTATE 57014,
  /// `transient`); 0: no limit.
  std::chrono::milliseconds statement_timeout{0};
  /// Connections kept open for reuse; more are opened while every kept one is busy.
  std::size_t max_idle_connections{8};
  /// How long the database keeps trying while the server is away (see `database`): from the
  /// first failure of an outage, whichever operation saw it. 0: never wait, the first failure
  /// is the error. The URI's `outage-budget-ms` sets it too.
  std::chrono::milliseconds outage_budget{pipeline::detail::default_outage_budget};
  /// The waits between tries during an outage (`outage_budget` ends the waiting).
  backoff_options reconnect{pipeline::detail::default_reconnect_backoff};
  /// Where the start and the end of an outage are logged (warnings).
  logger log{};
};

/// Where a `postgresql://` URI points, as libpq reads it. The password is kept out of it.
struct endpoint {
  std::string user;
  std::string host{"127.0.0.1"};
  std::uint16_t port{5432};
  std::string database;
  /// libpq's `sslmode` (disable, allow, prefer, require, verify-ca, verify-full); empty: libpq's
  /// default (prefer).
  std::string sslmode;
};

/// A PostgreSQL database: a URI and a pool of connections to it (libpq), shared by the sinks
/// and stores of `pipeline::postgres`.
///
/// The URI is libpq's: `postgresql://user:password@host:port/db?sslmode=verify-full&
/// sslrootcert=/ca.pem&connect_timeout=5` (also `postgres://`; user, password and db may be
/// percent-encoded; port defaults to 5432). Every query parameter libpq knows is passed to it
/// (sslmode, sslrootcert, sslcert, sslkey, connect_timeout, application_name, …), plus this
/// library's `outage-budget-ms=N`. A host that is a directory is a Unix socket.
///
/// Ownership: `open` returns a `std::shared_ptr`; each user keeps a copy, and the pooled
/// connections close when the last copy goes. Thread-safe: each operation borrows a
/// connection of its own for its whole length (a transaction, a batch), so workers write in
/// parallel. Blocking network I/O, a connect bounded by `connect_timeout`.
///
/// Every connection runs with `TimeZone = UTC`, `DateStyle = ISO` and `client_encoding =
/// UTF8`. Values are always sent as parameters (PQexecParams), never spliced into SQL. A
/// connection that is lost (or ends in an unknown transaction state) is closed, not reused,
/// and so are the idle ones kept with it (after a restart they are all dead).
///
/// Outages are waited out as `pipeline::mysql::database` does: a connect that is refused or
/// finds the server starting or shutting down (08001, 08006, 57P01, 57P03) is tried again with
/// backoff until it succeeds or the outage has lasted `outage_budget`. A write that lost its
/// connection is not sent again here: it fails `transient` and the runner retries the batch.
///
/// Errors keep the SQLSTATE: the message starts with it ("[23505] …") and `native_code` holds
/// it packed as PostgreSQL's MAKE_SQLSTATE does (six bits a character, `sqlstate_code`),
/// backend "postgres". `transient`: serialization failure and deadlock (40001, 40P01), lock
/// not available (55P03), statement cancelled (57014), admin or crash shutdown and cannot
/// connect now (57P01, 57P02, 57P03), too many connections (53300), connection errors (class
/// 08) and a lost connection. `invalid_input`: bad data (class 22: a value out of range, too
/// long, of the wrong syntax). `permanent`: everything else, e.g. a constraint (class 23:
/// 23505 unique, 23502 NOT NULL, 23514 CHECK), a missing table or column (42P01, 42703), a
/// wrong password or database at connect.
///
///     auto db = pipeline::postgres::database::open("postgresql://etl:secret@127.0.0.1:5432/shop").value();
///     auto store = pipeline::postgres::checkpoint_store::open(db).value();
class database {
 public:
  /// Parses `uri` and opens one connection, so that a wrong password or host fails here (a
  /// server that is down or starting is waited for, as the class comment says). Throws
  /// std::invalid_argument for a malformed URI (libpq's reason), an unknown or bad `sslmode`,
  /// a negative timeout or budget, or a `reconnect` that describes no schedule.
  [[nodiscard]] static auto open(std::string_view uri, const database_options& options = {})
      -> result<std::shared_ptr<database>>;
  /// Where it connects (the URI's parts, without the password).
  [[nodiscard]] auto where() const noexcept -> const endpoint& { return endpoint_; }

  ~database();
  database(const database&) = delete;  // shared through the shared_ptr instead
  auto operator=(const database&) -> database& = delete;

 private:
  database(endpoint where, std::vector<std::pair<std::string, std::string>> conninfo, database_options options);
  friend struct detail::database_access;

  endpoint endpoint_;
  std::vector<std::pair<std::string, std::string>> conninfo_;  // libpq keywords and values
  pipeline::detail::connection_pool<detail::connection> pool_;
};

/// A SQLSTATE ("40P01") packed into an error's `native_code` (six bits a character, the first
/// lowest, as PostgreSQL's MAKE_SQLSTATE); 0 for text that is not five characters.
[[nodiscard]] auto sqlstate_code(std::string_view sqlstate) noexcept -> std::int64_t;

/// Runs SQL that takes no parameters and returns no rows: schema set-up (CREATE TABLE …).
/// Never splice values into it; sinks and stores bind them.
[[nodiscard]] auto execute(database& db, std::string_view sql) -> result<void>;

/// The first row of a query, each column as an integer or nullopt for NULL (COUNT, SUM,
/// MIN …), for checks and reports; `not_found` when the query returns no row, `permanent`
/// when a column is not an integer.
[[nodiscard]] auto query_int64(database& db, std::string_view sql)
    -> result<std::vector<std::optional<std::int64_t>>>;

}  // namespace pipeline::postgres
