#include <pipeline/sqlite/job_log.hpp>

#include <tuple>

#include <fmt/format.h>

#include <pipeline/detail/time_text.hpp>

#include "connection.hpp"
#include "store_table.hpp"

namespace pipeline::sqlite {
namespace {

// The columns after "id", in the order of parameters ?2 … ?12 of INSERT and UPDATE and of
// columns 1 … 11 of SELECT.
constexpr std::string_view run_columns = R"("job", "state", "owner", "read", "written", "dead_lettered", )"
                                         R"("retried", "created", "updated", "lease_until", "message")";

// Counts are unsigned; sqlite's INTEGER is signed: stored modulo 2^64, read back exactly.
auto as_integer(std::uint64_t count) -> std::int64_t { return static_cast<std::int64_t>(count); }
auto as_count(std::int64_t integer) -> std::uint64_t { return static_cast<std::uint64_t>(integer); }

// Binds every field but the id as parameters ?2 … ?12.
void bind_run(detail::statement& st, const job_run& run) {
  st.bind_text(2, run.job);
  st.bind_text(3, to_string(run.state));
  st.bind_text(4, run.owner);
  st.bind_int64(5, as_integer(run.read));
  st.bind_int64(6, as_integer(run.written));
  st.bind_int64(7, as_integer(run.dead_lettered));
  st.bind_int64(8, as_integer(run.retried));
  st.bind_text(9, pipeline::detail::format_iso_time(run.created));
  st.bind_text(10, pipeline::detail::format_iso_time(run.updated));
  st.bind_text(11, pipeline::detail::format_iso_time(run.lease_until));
  st.bind_text(12, run.message);
}

// The run in the current row of the SELECT in `runs`.
auto read_run(const detail::statement& st, std::string_view table) -> result<job_run> {
  job_run run;
  run.id = as_count(st.column_int64(0));
  const auto bad = [&](std::string_view column, int index) {
    return permanent_error(fmt::format("job run {} in {}: {} '{}' does not read back", run.id, table, column,
                                       st.column_bytes(index)));
  };
  run.job = std::string(st.column_bytes(1));
  auto state = parse_run_state(st.column_bytes(2));
  if (!state) return bad("state", 2);
  run.state = *state;
  run.owner = std::string(st.column_bytes(3));
  run.read = as_count(st.column_int64(4));
  run.written = as_count(st.column_int64(5));
  run.dead_lettered = as_count(st.column_int64(6));
  run.retried = as_count(st.column_int64(7));
  for (auto [member, index, name] : {std::tuple{&job_run::created, 8, "created"},
                                     std::tuple{&job_run::updated, 9, "updated"},
                                     std::tuple{&job_run::lease_until, 10, "lease_until"}}) {
    auto t = pipeline::detail::parse_iso_time(st.column_bytes(index));
    if (!t) return bad(name, index);
    run.*member = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*t);
  }
  run.message = std::string(st.column_bytes(11));
  return run;
}

}  // namespace

job_log::job_log(std::shared_ptr<database> db, std::string table) noexcept
    : db_(std::move(db)), table_(std::move(table)) {}

auto job_log::open(std::shared_ptr<database> db, const job_log_options& options) -> result<job_log> {
  auto table = detail::create_store_table(
      db, options.table, "sqlite::job_log::open", [&](detail::session& s, const std::string& quoted) -> result<void> {
        auto created = s.execute(fmt::format(
            R"(CREATE TABLE IF NOT EXISTS {} ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "job" TEXT NOT NULL, )"
            R"("state" TEXT NOT NULL, "owner" TEXT NOT NULL, "read" INTEGER NOT NULL, "written" INTEGER NOT NULL, )"
            R"("dead_lettered" INTEGER NOT NULL, "retried" INTEGER NOT NULL, "created" TEXT NOT NULL, )"
            R"("updated" TEXT NOT NULL, "lease_until" TEXT NOT NULL, "message" TEXT NOT NULL))",
            quoted));
        if (!created) return created;
        // The index is named after the table: "<table>_by_job".
        return s.execute(
            fmt::format(R"(CREATE INDEX IF NOT EXISTS "{}_by_job" ON {} ("job", "id"))", options.table, quoted));
      });
  if (!table) return std::move(table).error();
  return job_log{std::move(db), std::move(*table)};
}

auto job_log::create(const job_run& run) -> result<std::uint64_t> {
  detail::session s{*db_};
  {
    auto st = s.prepare(fmt::format(
        "INSERT INTO {} ({}) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", table_, run_columns));
    if (!st) return std::move(st).error();
    bind_run(*st, run);
    if (auto done = st->step(fmt::format("creating a run of job '{}' in {}", run.job, table_)); !done) {
      return std::move(done).error();
    }
  }
  return as_count(s.last_insert_id());
}

auto job_log::update(const job_run& run) -> result<void> {
  detail::session s{*db_};
  {
    auto st = s.prepare(fmt::format(
        R"(UPDATE {} SET ("id", {}) = (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) WHERE "id" = ?1)", table_,
        run_columns));
    if (!st) return std::move(st).error();
    st->bind_int64(1, as_integer(run.id));
    bind_run(*st, run);
    if (auto done = st->step(fmt::format("updating job run {} in {}", run.id, table_)); !done) {
      return std::move(done).error();
    }
  }
  if (s.changes() == 0) return not_found_error(fmt::format("no job run with id {} in {}", run.id, table_));
  return ok();
}

auto job_log::runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> {
  detail::session s{*db_};
  auto st = s.prepare(fmt::format(R"(SELECT "id", {} FROM {} WHERE "job" = ?1 ORDER BY "id" DESC LIMIT ?2)",
                                  run_columns, table_));
  if (!st) return std::move(st).error();
  st->bind_text(1, job);
  st->bind_int64(2, detail::limit_parameter(limit));
  return detail::collect_rows(*st, fmt::format("reading runs of job '{}' from {}", job, table_),
                              [&](const detail::statement& row) { return read_run(row, table_); });
}

}  // namespace pipeline::sqlite
