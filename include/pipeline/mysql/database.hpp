#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/backoff.hpp>
#include <pipeline/log.hpp>
#include <pipeline/detail/connection_pool.hpp>
#include <pipeline/detail/outage.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mysql {

namespace detail {
class connection;
struct database_access;
}  // namespace detail

/// TLS settings, passed through to Connector/C as they are (MYSQL_OPT_SSL_*). All empty: the
/// client's default (no TLS unless the server insists).
struct tls_options {
  std::string ca{};    ///< CA certificate file (MYSQL_OPT_SSL_CA)
  std::string cert{};  ///< client certificate file (MYSQL_OPT_SSL_CERT)
  std::string key{};   ///< client key file (MYSQL_OPT_SSL_KEY)
  bool required{false};             ///< fail rather than connect in clear (MYSQL_OPT_SSL_ENFORCE)
  bool verify_server_cert{false};   ///< check the server's name (MYSQL_OPT_SSL_VERIFY_SERVER_CERT)
};

/// How a `database` connects. A plain struct: every field has a working default.
struct database_options {
  std::chrono::seconds connect_timeout{10};
  /// How long one read or write on the socket may wait before the statement fails as
  /// `transient` (lost connection) and the connection is dropped.
  std::chrono::seconds read_timeout{60};
  std::chrono::seconds write_timeout{60};
  /// Connections kept open for reuse; more are opened while every kept one is busy.
  std::size_t max_idle_connections{8};
  tls_options tls{};
  /// LOAD DATA LOCAL INFILE from this client (MYSQL_OPT_LOCAL_INFILE); off unless asked for.
  bool local_infile{false};
  /// How long the database keeps trying while the server is away (see `database`): from the
  /// first failure of an outage, whichever operation saw it. 0: never wait, the first failure
  /// is the error. The URI's `outage-budget-ms` sets it too.
  std::chrono::milliseconds outage_budget{pipeline::detail::default_outage_budget};
  /// The waits between tries during an outage (`max_attempts` and `max_elapsed` are not used:
  /// `outage_budget` ends the waiting).
  backoff_options reconnect{pipeline::detail::default_reconnect_backoff};
  /// Where the start and the end of an outage are logged (warnings).
  logger log{};
};

/// Where a `mysql://` URI points. Throws std::invalid_argument from `parse` when malformed.
struct endpoint {
  std::string user;
  std::string password;
  std::string host{"127.0.0.1"};
  std::uint16_t port{3306};
  std::string database;

  /// `mysql://user:password@host:port/db`; user, password and db may be percent-encoded;
  /// port defaults to 3306. Query parameters set TLS options: `ssl-ca`, `ssl-cert`,
  /// `ssl-key` (paths), `ssl-mode=REQUIRED|VERIFY_IDENTITY`, into `tls`.
  [[nodiscard]] static auto parse(std::string_view uri, tls_options* tls = nullptr) -> endpoint;
  /// As above, the query parameters setting `options`: the TLS ones into `options->tls`, and
  /// `outage-budget-ms=N` (milliseconds, 0 or more) into `options->outage_budget`.
  [[nodiscard]] static auto parse(std::string_view uri, database_options* options) -> endpoint;
};

/// A MySQL/MariaDB database: an endpoint and a pool of connections to it, shared by the
/// sources, sinks and stores of `pipeline::mysql`.
///
/// Ownership: `open` returns a `std::shared_ptr`; each user keeps a copy, and the pooled
/// connections close when the last copy goes. Thread-safe: each operation borrows a
/// connection of its own for its whole length (a transaction, a batch), so workers write in
/// parallel. Blocking network I/O bounded by the timeouts in `database_options`.
///
/// Every connection runs with `time_zone = '+00:00'` (TIMESTAMP columns read and write UTC)
/// and `sql_mode` STRICT_ALL_TABLES added (a value that does not fit is an error, never
/// silently cut). A connection that fails with a lost-connection error is closed, not reused,
/// and so are the idle ones kept with it (after a restart they are all dead): the next
/// operation opens a new one, so a retry (by the runner's retry policy) reconnects.
///
/// Outages are waited out: a connect that is refused, lost or told the server is shutting down
/// (2002, 2003, 2006, 2013, 2055, 1053, 1927, 1158-1161) is tried again with backoff
/// (`database_options::reconnect`) until it succeeds or the outage has lasted
/// `outage_budget`; so is a read that lost its connection (a keyset page, a partition plan,
/// `query_int64`), on a new connection. A write that lost its connection is not sent again
/// here: its transaction may or may not have committed, so it fails `transient` and the
/// runner retries the batch, whose connect then waits (the table sink's exactly-once modes
/// recognise a batch that committed unseen; see docs/adapters/mysql.md). The database logs a
/// warning when an outage starts ("mysql: host:port unavailable …, waiting up to …") and when
/// the server is back ("… is back after 3.2 s"). The outage is the database's, not the
/// operation's: once its budget is spent, each operation tries once and fails at once, until
/// one succeeds. Then it is an error: `transient`, naming how long the server was away.
///
/// Errors keep mysql_errno in `native_code` and the server's message, backend "mysql".
/// `transient`: lost or refused connection (2002, 2003, 2006, 2013, 2055), deadlock (1213),
/// lock wait timeout (1205), too many connections (1040), server shutting down (1053),
/// query interrupted or connection killed (1317, 1927), read-only (1290, 1836). `permanent`:
/// everything else the server refuses, e.g. duplicate key (1062), data too long (1406),
/// incorrect value (1366, 1292), out of range (1264), NULL into NOT NULL (1048), no such
/// table or column (1146, 1054), syntax (1064), access denied (1044, 1045, 1142).
///
///     auto db = pipeline::mysql::database::open("mysql://etl:secret@127.0.0.1:3306/shop").value();
///     auto store = pipeline::mysql::checkpoint_store::open(db).value();
class database {
 public:
  /// Parses `uri` and opens one connection, so that a wrong password or host fails here (a
  /// server that is down or starting is waited for, as the class comment says). Throws
  /// std::invalid_argument for a malformed URI, a negative timeout or budget, or a `reconnect`
  /// that describes no schedule.
  [[nodiscard]] static auto open(std::string_view uri, const database_options& options = {})
      -> result<std::shared_ptr<database>>;

  database(const database&) = delete;
  auto operator=(const database&) -> database& = delete;
  ~database();

  [[nodiscard]] auto where() const noexcept -> const endpoint& { return endpoint_; }

 private:
  friend struct detail::database_access;
  database(endpoint where, database_options options);

  endpoint endpoint_;
  database_options options_;
  pipeline::detail::connection_pool<detail::connection> pool_;
};

/// Runs SQL that takes no parameters and returns no rows: schema set-up (CREATE TABLE …).
/// Never splice values into it; sinks and stores bind them.
[[nodiscard]] auto execute(database& db, std::string_view sql) -> result<void>;

/// The first row of a query, each column as an integer or nullopt for NULL (COUNT, SUM,
/// MIN …), for checks and reports; `not_found` when the query returns no row, `permanent`
/// when a column is not an integer. Give it reads only: after a lost connection it is run
/// again on a new one (see `database`).
[[nodiscard]] auto query_int64(database& db, std::string_view sql)
    -> result<std::vector<std::optional<std::int64_t>>>;

}  // namespace pipeline::mysql
