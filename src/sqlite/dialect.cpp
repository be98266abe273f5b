// pipeline::sqlite as a dialect of the relational layer (src/relational/dialect.hpp): how
// sqlite spells the SQL and its store tables, and a connection (a `session`, holding the
// database's lock for one operation) with its row-by-row insert path.
#include <pipeline/sqlite/checkpoint_store.hpp>
#include <pipeline/sqlite/dead_letter_table.hpp>
#include <pipeline/sqlite/job_log.hpp>
#include <pipeline/sqlite/table_sink.hpp>
#include <pipeline/sqlite/write_mode.hpp>

#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>
#include <pipeline/detail/time_text.hpp>

#include "connection.hpp"
#include "relational/adapter.hpp"

namespace pipeline::sqlite::detail {
namespace {

namespace relational = pipeline::detail::relational;

class sqlite_dialect final : public relational::dialect {
 public:
  [[nodiscard]] auto name() const noexcept -> std::string_view override { return "sqlite"; }
  [[nodiscard]] auto quote(std::string_view identifier) const -> std::string override {
    return fmt::format("\"{}\"", identifier);
  }
  [[nodiscard]] auto placeholder(std::size_t n) const -> std::string override { return fmt::format("?{}", n); }
  [[nodiscard]] auto insert_ignore(std::string_view into) const -> std::string override {
    return fmt::format("INSERT OR IGNORE {}", into);
  }
  [[nodiscard]] auto upsert_clause(std::string_view /*table*/, const std::vector<std::string>& /*columns*/,
                                   const std::vector<std::string>& keys,
                                   const std::vector<std::string>& updates,
                                   const std::vector<std::string>& adds) const -> std::string override {
    return relational::on_conflict_clause("", keys, updates, adds);
  }
  [[nodiscard]] auto upsert_needs_keys() const noexcept -> bool override { return true; }
  // A commit returns once it is in the file: no reply to lose.
  [[nodiscard]] auto commits_can_be_lost() const noexcept -> bool override { return false; }
  // No declared type: the column keeps each value as it is given.
  [[nodiscard]] auto default_column_type(bool /*key*/) const -> std::string_view override { return ""; }
  [[nodiscard]] auto table_options() const -> std::string_view override { return ""; }

  [[nodiscard]] auto create_store_table(relational::connection& c, relational::store_table which,
                                        std::string_view table, std::string_view quoted) const
      -> result<void> override;

  // The shared fingerprint completes the unique index on (partition, position, fingerprint).
  [[nodiscard]] auto dead_letter_identity_column() const -> std::string_view override { return "fingerprint"; }
  [[nodiscard]] auto dead_letter_identity(const dead_letter& /*letter*/, std::string_view fingerprint) const
      -> std::string override {
    return std::string(fingerprint);
  }
  [[nodiscard]] auto dead_letter_key() const -> std::vector<std::string> override {
    return {R"("partition")", R"("position")", R"("fingerprint")"};
  }
};

const sqlite_dialect the_dialect;

using sqlite_statement = statement;  // inside the class below, `statement` is its base

// A cached statement of the session: `execute` runs it to its first row, `next_row` on.
// Binds `v` as parameter `index`, or says why sqlite would not keep it as it is.
auto bind_value(statement& st, int index, const value& v) -> std::optional<std::string_view> {
  switch (v.kind()) {
    case value_kind::null: st.bind_null(index); break;
    case value_kind::boolean: st.bind_int64(index, *v.get_if<bool>() ? 1 : 0); break;
    case value_kind::int64: st.bind_int64(index, *v.get_if<std::int64_t>()); break;
    case value_kind::float64: {
      const double d = *v.get_if<double>();
      if (std::isnan(d)) return "is NaN, which sqlite would store as NULL";
      st.bind_double(index, d);
      break;
    }
    case value_kind::string: st.bind_text(index, *v.get_if<std::string>()); break;
    case value_kind::binary: st.bind_blob(index, std::span<const std::byte>{*v.get_if<bytes>()}); break;
    case value_kind::datetime: {
      auto text = pipeline::detail::format_iso_time(*v.get_if<timestamp>());
      if (!text) return "is a time outside the years 0000-9999 that ISO-8601 text holds";
      st.bind_text(index, *text);
      break;
    }
  }
  return std::nullopt;
}

class relational_statement final : public relational::statement {
 public:
  relational_statement(sqlite_statement st, session& s) noexcept : st_(std::move(st)), session_(&s) {}

  void bind_int64(int index, std::int64_t v) override { st_.bind_int64(index, v); }
  void bind_text(int index, std::string_view v) override { st_.bind_text(index, v); }
  void bind_bytes(int index, std::string_view v) override { st_.bind_blob(index, v); }
  // UTC ISO-8601 text to the microsecond, which sqlite's date functions read.
  void bind_time(int index, std::chrono::system_clock::time_point t) override {
    st_.bind_text(index, pipeline::detail::format_iso_time(t));
  }
  void bind_value(int index, const value& v) override {
    if (auto problem = pipeline::sqlite::detail::bind_value(st_, index, v)) {
      bind_problem_ = fmt::format("parameter {} {}", index, *problem);
    }
  }

  // sqlite binds only a statement that is reset: one is reset once its last row is read.
  [[nodiscard]] auto execute(std::string_view context) -> result<void> override {
    context_ = context;
    if (!bind_problem_.empty()) {
      st_.reset();
      return invalid_input_error(fmt::format("{}: {}", context, std::exchange(bind_problem_, {})));
    }
    auto row = st_.step(context_);
    if (!row) return std::move(row).error();
    has_row_ = *row;
    unread_ = true;
    if (!has_row_) st_.reset();  // done: ready to be bound again
    return ok();
  }
  [[nodiscard]] auto next_row() -> result<bool> override {
    if (unread_ || !has_row_) {
      unread_ = false;
      return has_row_;
    }
    auto row = st_.step(context_);
    if (!row) return std::move(row).error();
    has_row_ = *row;
    if (!has_row_) st_.reset();
    return has_row_;
  }
  [[nodiscard]] auto affected_rows() const -> std::uint64_t override {
    return static_cast<std::uint64_t>(session_->changes());
  }
  [[nodiscard]] auto last_insert_id() const -> std::uint64_t override {
    return static_cast<std::uint64_t>(session_->last_insert_id());
  }
  // sqlite converts what a column holds; only NULL is no integer.
  [[nodiscard]] auto int64_at(int column) const -> std::optional<std::int64_t> override {
    if (st_.column_is_null(column)) return std::nullopt;
    return st_.column_int64(column);
  }
  [[nodiscard]] auto text_at(int column) const -> std::string_view override { return st_.column_bytes(column); }
  [[nodiscard]] auto time_at(int column) const -> std::optional<timestamp> override {
    return pipeline::detail::parse_iso_time(st_.column_bytes(column));
  }

 private:
  sqlite_statement st_;
  session* session_;
  std::string context_;
  bool has_row_ = false;
  bool unread_ = false;  // `execute` stepped to a row that `next_row` has not handed out yet
  std::string bind_problem_;  // why a value was not bound, for `execute` to report
};

// The database's one connection, locked for the life of this object.
class relational_connection final : public relational::connection {
 public:
  explicit relational_connection(database& db) : session_(db) {}

  [[nodiscard]] auto sql_dialect() const noexcept -> const relational::dialect& override { return the_dialect; }
  [[nodiscard]] auto execute(std::string_view sql) -> result<void> override { return session_.execute(sql); }
  [[nodiscard]] auto prepare(std::string_view sql) -> result<std::unique_ptr<relational::statement>> override {
    auto st = session_.prepare(sql);
    if (!st) return std::move(st).error();
    return std::make_unique<relational_statement>(std::move(*st), session_);
  }
  // IMMEDIATE takes the write lock at the start (waiting up to the busy timeout), so a write
  // never fails half-way for want of it.
  [[nodiscard]] auto begin() -> result<void> override { return session_.execute("BEGIN IMMEDIATE"); }
  [[nodiscard]] auto commit() -> result<void> override { return session_.execute("COMMIT"); }
  // sqlite may have rolled back already (some I/O errors do): then there is nothing to undo.
  void rollback() noexcept override {
    if (session_.in_transaction()) (void)session_.execute("ROLLBACK");
  }

  // Row by row: one cached statement, bound and stepped per row.
  [[nodiscard]] auto insert_rows(const relational::sink_plan& plan, std::span<const record> rows,
                                 const std::stop_token& stop) -> result<void> override {
    auto st = session_.prepare(plan.sql);
    if (!st) return std::move(st).error();
    for (std::size_t row = 0; row < rows.size(); ++row) {
      if (stop.stop_requested()) return stopped_error();
      if (auto done = insert_row(*st, plan, rows, row); !done) return done;
    }
    return ok();
  }

  // Row by row as above, each row its own statement: a refused row's statement is undone
  // alone (ON CONFLICT ABORT) and the transaction goes on with the others.
  [[nodiscard]] auto insert_each(const relational::sink_plan& plan, std::span<const record> rows,
                                 const std::stop_token& stop) -> result<std::vector<rejected_record>> override {
    auto st = session_.prepare(plan.sql);
    if (!st) return std::move(st).error();
    std::vector<rejected_record> refused;
    for (std::size_t row = 0; row < rows.size(); ++row) {
      if (stop.stop_requested()) return stopped_error();
      auto done = insert_row(*st, plan, rows, row);
      if (done) continue;
      auto e = std::move(done).error();
      if (e.kind != error_kind::permanent && e.kind != error_kind::invalid_input) return e;
      // A table declared ON CONFLICT ROLLBACK ends the whole transaction with the row: the
      // rows before it are gone, so the call fails as a whole.
      if (!session_.in_transaction()) {
        return permanent_error(fmt::format("{} (it rolled back the transaction of the batch)", e.message));
      }
      refused.push_back({row, std::move(e)});
    }
    return refused;
  }

 private:
  // Binds row `row` of `rows` and steps it; the statement is reset for the next row either way.
  static auto insert_row(statement& st, const relational::sink_plan& plan, std::span<const record> rows,
                         std::size_t row) -> result<void> {
    // Formatted only for an error: most rows go in.
    const auto context = [&] { return fmt::format("row {} of {} into {}", row, rows.size(), plan.table); };
    for (std::size_t c = 0; c < plan.columns.size(); ++c) {
      const int index = static_cast<int>(c + 1);
      const value* v = plan.value_of(rows[row], c);
      if (v == nullptr) {
        st.bind_null(index);
      } else if (const auto* text = v->get_if<std::string>()) {
        st.bind_text_unowned(index, *text);  // the row outlives the step, and every row rebinds
      } else if (auto problem = bind_value(st, index, *v)) {
        st.reset();
        return invalid_input_error(fmt::format("{}: field \"{}\" {}", context(), plan.columns[c], *problem));
      }
    }
    auto done = st.step(context);
    st.reset();
    if (!done) return std::move(done).error();
    return ok();
  }

  session session_;
};

auto sqlite_dialect::create_store_table(relational::connection& c, relational::store_table which,
                                        std::string_view table, std::string_view quoted) const -> result<void> {
  switch (which) {
    case relational::store_table::checkpoints:
      return c.execute(fmt::format(
          R"(CREATE TABLE IF NOT EXISTS {} ("key" TEXT PRIMARY KEY, "position" BLOB NOT NULL, )"
          R"("version" INTEGER NOT NULL, "updated_at" TEXT))",
          quoted));
    case relational::store_table::job_runs: {
      auto created = c.execute(fmt::format(
          R"(CREATE TABLE IF NOT EXISTS {} ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "job" TEXT NOT NULL, )"
          R"("state" TEXT NOT NULL, "owner" TEXT NOT NULL, "read" INTEGER NOT NULL, "written" INTEGER NOT NULL, )"
          R"("dead_lettered" INTEGER NOT NULL, "retried" INTEGER NOT NULL, "created" TEXT NOT NULL, )"
          R"("updated" TEXT NOT NULL, "lease_until" TEXT NOT NULL, "message" TEXT NOT NULL))",
          quoted));
      if (!created) return created;
      // The index is named after the table: "<table>_by_job".
      return c.execute(fmt::format(R"(CREATE INDEX IF NOT EXISTS "{}_by_job" ON {} ("job", "id"))", table, quoted));
    }
    case relational::store_table::batches:
      return c.execute(fmt::format(
          R"(CREATE TABLE IF NOT EXISTS {} ("job" TEXT NOT NULL, "run" INTEGER NOT NULL, "sequence" INTEGER NOT NULL, )"
          R"("slice" INTEGER NOT NULL, "partition" INTEGER NOT NULL, "start_position" BLOB NOT NULL, )"
          R"("end_position" BLOB NOT NULL, PRIMARY KEY ("job", "run", "sequence", "slice")))",
          quoted));
    case relational::store_table::dead_letters: break;
  }
  if (auto created = c.execute(fmt::format(
          R"(CREATE TABLE IF NOT EXISTS {} ("id" INTEGER PRIMARY KEY, "payload" BLOB, "kind" TEXT, )"
          R"("message" TEXT, "native_code" INTEGER, "backend" TEXT, "attempts" INTEGER, "position" BLOB, )"
          R"("partition" INTEGER, "time" TEXT, "fingerprint" TEXT, "job" TEXT NOT NULL DEFAULT ''))",
          quoted));
      !created) {
    return created;
  }
  // A table made before entries had fingerprints gets the column; its old rows keep NULL,
  // which the unique index treats as distinct.
  auto has = c.prepare(R"(SELECT COUNT(*) FROM pragma_table_info(?1) WHERE "name" = 'fingerprint')");
  if (!has) return std::move(has).error();
  (*has)->bind_text(1, table);
  if (auto done = (*has)->execute("looking for the fingerprint column"); !done) return done;
  if ((*has)->int64_at(0).value_or(0) == 0) {
    if (auto added = c.execute(fmt::format(R"(ALTER TABLE {} ADD COLUMN "fingerprint" TEXT)", quoted)); !added) {
      return added;
    }
  }
  // A table made before letters had a job gets the column; its old rows read back with none.
  if (auto added = relational::add_column_if_missing(c, quoted, "job", "TEXT NOT NULL DEFAULT ''"); !added) {
    return added;
  }
  const auto index = fmt::format("{}_entry", table);
  pipeline::detail::require_identifier(index, "sqlite::dead_letter_table::open: index");
  return c.execute(fmt::format(R"(CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ("partition", "position", "fingerprint"))",
                               quote(index), quoted));
}

}  // namespace
}  // namespace pipeline::sqlite::detail

// The shared stores and sink for sqlite::database: their members reach the database through
// this specialisation, so they are instantiated here, beside it. (Names in it are looked up
// in pipeline::detail::relational.)
template <>
struct pipeline::detail::relational::backend<pipeline::sqlite::database> {
  // SQLite has no server to wait for: `stop` has nothing to end.
  static auto connect(sqlite::database& db, const std::stop_token& /*stop*/) -> result<connection_ptr> {
    return std::make_unique<sqlite::detail::relational_connection>(db);
  }
  static auto sql_dialect() noexcept -> const dialect& { return sqlite::detail::the_dialect; }
};

PIPELINE_RELATIONAL_INSTANTIATE(pipeline::sqlite::database);
