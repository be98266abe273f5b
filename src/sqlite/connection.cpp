#include "connection.hpp"

#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace pipeline::sqlite::detail {

// Whether trying again can help decides the kind; the runner retries only `transient`.
auto classify(int code) noexcept -> error_kind {
  switch (code & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:       // another connection holds the lock past busy_timeout
    case SQLITE_LOCKED:     // a lock conflict inside this process (shared cache)
    case SQLITE_PROTOCOL:   // a race on the WAL locks
    case SQLITE_IOERR:      // a read, write or fsync failed: the device may recover
    case SQLITE_FULL:       // the disk is full: space may be freed
    case SQLITE_NOMEM:      // out of memory for now
    case SQLITE_INTERRUPT:  // sqlite3_interrupt cut the statement short
    case SQLITE_ABORT:      // a statement cut short by a rollback elsewhere
    case SQLITE_SCHEMA:     // the schema changed under a statement more often than sqlite re-prepares
      return error_kind::transient;
    case SQLITE_MISUSE:    // the library called sqlite out of order: a bug here
    case SQLITE_INTERNAL:  // a bug in sqlite
      return error_kind::internal;
    case SQLITE_CONSTRAINT:  // UNIQUE, NOT NULL, CHECK, FOREIGN KEY: the row is refused
    case SQLITE_MISMATCH:    // a value of the wrong type for a STRICT column or a rowid
    case SQLITE_TOOBIG:      // a string or BLOB beyond SQLITE_MAX_LENGTH
    case SQLITE_RANGE:       // a parameter index out of range
    case SQLITE_ERROR:       // SQL that does not fit the schema: no such table or column
    case SQLITE_CORRUPT:     // the file is damaged
    case SQLITE_NOTADB:      // the file is not a database
    case SQLITE_FORMAT:
    case SQLITE_CANTOPEN:    // no such directory, no permission, a file where a directory should be
    case SQLITE_READONLY:    // a read-only file or directory
    case SQLITE_PERM:
    case SQLITE_AUTH:        // an authorizer said no
    case SQLITE_NOLFS:
    default:                 // codes newer than this table: the same again will fail the same way
      return error_kind::permanent;
  }
}

auto sqlite_error(sqlite3* db, int code, std::string_view context) -> error {
  // sqlite3_errmsg describes the connection's last error; a bind that failed before later
  // binds succeeded has left it, and then the code's own text is the best there is.
  const char* what = db != nullptr && sqlite3_extended_errcode(db) == code ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return error{classify(code), fmt::format("{}: {}", context, what), code, "sqlite"};
}

statement::statement(statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_failure_(other.bind_failure_) {}

statement::~statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void statement::keep_failure(int rc) noexcept {
  if (rc != SQLITE_OK && bind_failure_ == SQLITE_OK) bind_failure_ = rc;
}

void statement::bind_null(int index) noexcept { keep_failure(sqlite3_bind_null(stmt_, index)); }

void statement::bind_int64(int index, std::int64_t v) noexcept { keep_failure(sqlite3_bind_int64(stmt_, index, v)); }

void statement::bind_double(int index, double v) noexcept { keep_failure(sqlite3_bind_double(stmt_, index, v)); }

void statement::bind_text(int index, std::string_view v) noexcept { bind_text_as(index, v, SQLITE_TRANSIENT); }

void statement::bind_text_unowned(int index, std::string_view v) noexcept { bind_text_as(index, v, SQLITE_STATIC); }

void statement::bind_text_as(int index, std::string_view v, sqlite3_destructor_type lifetime) noexcept {
  // A null pointer would bind NULL; an empty string_view may have one.
  const char* data = v.data() != nullptr ? v.data() : "";
  keep_failure(sqlite3_bind_text64(stmt_, index, data, v.size(), lifetime, SQLITE_UTF8));
}

void statement::bind_blob(int index, std::span<const std::byte> v) noexcept {
  // sqlite3_bind_blob with a null pointer binds NULL, so an empty BLOB is a zero-length zeroblob.
  if (v.empty()) {
    keep_failure(sqlite3_bind_zeroblob(stmt_, index, 0));
  } else {
    keep_failure(sqlite3_bind_blob64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT));
  }
}

void statement::reset() noexcept { sqlite3_reset(stmt_); }

auto statement::column_count() const noexcept -> int { return sqlite3_column_count(stmt_); }

auto statement::column_is_null(int column) const noexcept -> bool {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

auto statement::column_int64(int column) const noexcept -> std::int64_t { return sqlite3_column_int64(stmt_, column); }

auto statement::column_bytes(int column) const noexcept -> std::string_view {
  // sqlite3_column_blob first, then the size: the call order sqlite documents.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
  return data == nullptr ? std::string_view{} : std::string_view{data, size};
}

auto connection::open(const std::string& path, const database_options& options)
    -> result<std::unique_ptr<connection>> {
  sqlite3* raw = nullptr;
  // NOMUTEX: sqlite's own per-connection mutex is not needed; `session` serialises.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  connection_handle db{raw};  // sqlite hands out a handle to close even when opening fails
  if (rc != SQLITE_OK) {
    return sqlite_error(raw, raw != nullptr ? sqlite3_extended_errcode(raw) : rc, fmt::format("opening '{}'", path));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));

  std::unique_ptr<connection> c{new connection(std::move(db))};
  session s{*c};
  // In-memory databases answer "memory" and stay so; that is not an error.
  if (options.wal) {
    // Switching to WAL can answer BUSY without calling the busy handler (another process is
    // creating or switching the same new file), so it is retried here, within busy_timeout.
    const auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
    for (;;) {
      auto r = s.execute("PRAGMA journal_mode = WAL");
      if (r) break;
      const auto code = r.error().native_code & 0xff;  // the primary code of an extended one
      if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline) {
        return std::move(r).error();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
  }
  const auto* synchronous =
      options.synchronous == synchronous_mode::full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
  if (auto r = s.execute(synchronous); !r) return std::move(r).error();
  return c;
}

auto session::prepare(std::string_view sql) -> result<statement> {
  sqlite3* db = connection_.db_.get();
  auto& cache = connection_.statements_;
  auto it = cache.find(sql);
  if (it == cache.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc =
        sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    statement_handle prepared{raw};
    if (rc != SQLITE_OK) return sqlite_error(db, rc, fmt::format("preparing {}", sql));
    it = cache.emplace(std::string(sql), std::move(prepared)).first;
  }
  return statement{db, it->second.get()};
}

auto session::execute(std::string_view sql) -> result<void> {
  auto st = prepare(sql);
  if (!st) return std::move(st).error();
  for (;;) {
    auto row = st->step(sql);
    if (!row) return std::move(row).error();
    if (!*row) return ok();
  }
}

auto session::changes() const noexcept -> int { return sqlite3_changes(connection_.db_.get()); }

auto session::last_insert_id() const noexcept -> std::int64_t {
  return sqlite3_last_insert_rowid(connection_.db_.get());
}

auto session::in_transaction() const noexcept -> bool { return sqlite3_get_autocommit(connection_.db_.get()) == 0; }

}  // namespace pipeline::sqlite::detail
