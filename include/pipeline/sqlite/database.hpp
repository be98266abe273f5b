#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/result.hpp>

namespace pipeline::sqlite {

namespace detail {
class connection;
struct database_access;
}  // namespace detail

/// How hard sqlite pushes each commit to the disk (PRAGMA synchronous).
enum class synchronous_mode : std::uint8_t {
  normal,  ///< in WAL mode a power loss may undo the last commits, never corrupt the file
  full,    ///< every commit is on the disk when it returns
};

/// How a database is opened. A plain struct: every field has a working default.
struct database_options {
  /// How long a statement waits for another connection's lock (another process writing)
  /// before it fails with a `transient` error. 0 fails at once.
  std::chrono::milliseconds busy_timeout{5000};
  /// journal_mode=WAL: readers do not block the writer. Kept by the file once set; ignored
  /// for ":memory:" databases.
  bool wal{true};
  synchronous_mode synchronous{synchronous_mode::full};
  /// Create the file when it does not exist; otherwise opening a missing file fails.
  bool create_if_missing{true};
};

/// One sqlite connection, shared by the sinks and stores of `pipeline::sqlite`.
///
/// Ownership: `open` returns a `std::shared_ptr`; each table_sink, checkpoint_store,
/// dead_letter_table and job_log keeps a copy, and the connection closes when the last copy
/// goes. Thread-safe: every operation (a whole transaction) holds the database's mutex, so
/// the users of one database are serialised, which is also what sqlite's single writer
/// allows. Other processes, or other `database` objects on the same file, are kept apart by
/// sqlite's file locks: a statement waits for them up to `busy_timeout`. Blocking file I/O.
///
/// Errors from sqlite keep its extended result code in `native_code` with backend "sqlite".
/// `transient`: the database is busy or locked, I/O failed, the disk or memory is full, an
/// operation was interrupted. `permanent`: the file cannot be opened or is not a database,
/// a constraint or type check failed, a value is too big, the database is read-only or
/// corrupt, or the SQL does not fit the schema (no such table or column).
///
///     auto db = pipeline::sqlite::database::open("/var/lib/etl/state.db").value();
///     auto store = pipeline::sqlite::checkpoint_store::open(db).value();
class database {
 public:
  /// Opens (by default creating) the database at `path`; ":memory:" is a private in-memory
  /// database. Throws std::invalid_argument if `path` is empty or holds a NUL, or if
  /// `options.busy_timeout` is negative or longer than INT_MAX milliseconds. A file that
  /// cannot be opened, or is not a database, is a `permanent` error.
  [[nodiscard]] static auto open(std::string path, const database_options& options = {})
      -> result<std::shared_ptr<database>>;

  database(const database&) = delete;
  auto operator=(const database&) -> database& = delete;
  ~database();

  [[nodiscard]] auto path() const noexcept -> const std::string& { return path_; }

 private:
  friend struct detail::database_access;
  database(std::string path, std::unique_ptr<detail::connection> connection) noexcept;

  std::string path_;
  std::unique_ptr<detail::connection> connection_;
};

/// Runs SQL that takes no parameters and returns no rows: schema set-up (CREATE TABLE …,
/// CREATE INDEX …). Never splice values into it; sinks and stores bind them.
[[nodiscard]] auto execute(database& db, std::string_view sql) -> result<void>;

/// The first row of a query whose columns are integers (COUNT, SUM, MIN …), for checks and
/// reports; `not_found` when the query returns no row.
[[nodiscard]] auto query_int64(database& db, std::string_view sql) -> result<std::vector<std::int64_t>>;

}  // namespace pipeline::sqlite
