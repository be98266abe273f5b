#include <array>
#include <chrono>
#include <tuple>

#include <fmt/format.h>

#include "relational/stores.hpp"

namespace pipeline::detail::relational {
namespace {

// The columns after "id", in the order of the parameters of INSERT and UPDATE and of the
// columns 1 … 11 of SELECT.
constexpr std::array<std::string_view, 11> run_columns{"job",     "state",   "owner",       "read",
                                                       "written", "dead_lettered", "retried", "created",
                                                       "updated", "lease_until",   "message"};

// Counts are unsigned; SQL integers are signed: stored modulo 2^64, read back exactly.
auto as_integer(std::uint64_t count) -> std::int64_t { return static_cast<std::int64_t>(count); }
auto as_count(std::optional<std::int64_t> integer) -> std::uint64_t {
  return static_cast<std::uint64_t>(integer.value_or(0));
}

// Binds every field but the id as parameters 1 … 11.
void bind_run(statement& st, const job_run& run) {
  st.bind_text(1, run.job);
  st.bind_text(2, to_string(run.state));
  st.bind_text(3, run.owner);
  st.bind_int64(4, as_integer(run.read));
  st.bind_int64(5, as_integer(run.written));
  st.bind_int64(6, as_integer(run.dead_lettered));
  st.bind_int64(7, as_integer(run.retried));
  st.bind_time(8, run.created);
  st.bind_time(9, run.updated);
  st.bind_time(10, run.lease_until);
  st.bind_text(11, run.message);
}

// The run in the current row of the SELECT in `select_runs`.
auto read_run(const statement& st, std::string_view table) -> result<job_run> {
  job_run run;
  run.id = as_count(st.int64_at(0));
  const auto bad = [&](std::string_view column, int index) {
    return permanent_error(fmt::format("job run {} in {}: {} '{}' does not read back", run.id, table, column,
                                       st.text_at(index)));
  };
  run.job = std::string(st.text_at(1));
  auto state = parse_run_state(st.text_at(2));
  if (!state) return bad("state", 2);
  run.state = *state;
  run.owner = std::string(st.text_at(3));
  run.read = as_count(st.int64_at(4));
  run.written = as_count(st.int64_at(5));
  run.dead_lettered = as_count(st.int64_at(6));
  run.retried = as_count(st.int64_at(7));
  for (auto [member, index, name] : {std::tuple{&job_run::created, 8, "created"},
                                     std::tuple{&job_run::updated, 9, "updated"},
                                     std::tuple{&job_run::lease_until, 10, "lease_until"}}) {
    auto t = st.time_at(index);
    if (!t) return bad(name, index);
    run.*member = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*t);
  }
  run.message = std::string(st.text_at(11));
  return run;
}

}  // namespace

auto insert_run(connection& c, std::string_view table, const job_run& run) -> result<std::uint64_t> {
  const auto& d = c.sql_dialect();
  auto st = c.prepare(fmt::format("INSERT INTO {} ({}) VALUES ({})", table, quoted_list(d, run_columns),
                                  placeholders(d, 1, run_columns.size())));
  if (!st) return std::move(st).error();
  bind_run(**st, run);
  if (auto done = (*st)->execute(fmt::format("creating a run of job '{}' in {}", run.job, table)); !done) {
    return std::move(done).error();
  }
  return (*st)->last_insert_id();
}

auto update_run(connection& c, std::string_view table, const job_run& run) -> result<void> {
  const auto& d = c.sql_dialect();
  const auto id = d.quote("id");
  std::string assignments;
  for (std::size_t i = 0; i < run_columns.size(); ++i) {
    fmt::format_to(std::back_inserter(assignments), "{}{} = {}", i == 0 ? "" : ", ", d.quote(run_columns[i]),
                   d.placeholder(i + 1));
  }
  const auto context = fmt::format("updating job run {} in {}", run.id, table);
  {
    auto st = c.prepare(fmt::format("UPDATE {} SET {} WHERE {} = {}", table, assignments, id,
                                    d.placeholder(run_columns.size() + 1)));
    if (!st) return std::move(st).error();
    bind_run(**st, run);
    (*st)->bind_int64(static_cast<int>(run_columns.size() + 1), as_integer(run.id));
    if (auto done = (*st)->execute(context); !done) return done;
    if ((*st)->affected_rows() != 0) return ok();
  }
  // Some databases count only the rows an UPDATE changed: one that rewrote the same values
  // changed none, so whether the id exists is asked apart.
  auto found = c.prepare(fmt::format("SELECT {} FROM {} WHERE {} = {}", id, table, id, d.placeholder(1)));
  if (!found) return std::move(found).error();
  (*found)->bind_int64(1, as_integer(run.id));
  if (auto done = (*found)->execute(context); !done) return done;
  auto row = (*found)->next_row();
  if (!row) return std::move(row).error();
  if (!*row) return not_found_error(fmt::format("no job run with id {} in {}", run.id, table));
  return ok();
}

auto select_runs(connection& c, std::string_view table, std::string_view job, std::size_t limit)
    -> result<std::vector<job_run>> {
  const auto& d = c.sql_dialect();
  const auto id = d.quote("id");
  auto st = c.prepare(fmt::format("SELECT {}, {} FROM {} WHERE {} = {} ORDER BY {} DESC LIMIT {}", id,
                                  quoted_list(d, run_columns), table, d.quote("job"), d.placeholder(1), id,
                                  d.placeholder(2)));
  if (!st) return std::move(st).error();
  auto& s = **st;
  s.bind_text(1, job);
  s.bind_int64(2, limit_parameter(limit));
  if (auto done = s.execute(fmt::format("reading runs of job '{}' from {}", job, table)); !done) {
    return std::move(done).error();
  }
  return collect_rows(s, [&](const statement& row) { return read_run(row, table); });
}

auto select_distinct(connection& c, std::string_view table, std::string_view column)
    -> result<std::vector<std::string>> {
  const auto quoted = c.sql_dialect().quote(column);
  auto st = c.prepare(fmt::format("SELECT DISTINCT {} FROM {} ORDER BY {}", quoted, table, quoted));
  if (!st) return std::move(st).error();
  auto& s = **st;
  if (auto done = s.execute(fmt::format("reading the {} values of {}", column, table)); !done) {
    return std::move(done).error();
  }
  return collect_rows(s, [](const statement& row) -> result<std::string> { return std::string(row.text_at(0)); });
}

}  // namespace pipeline::detail::relational
