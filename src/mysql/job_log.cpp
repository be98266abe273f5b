#include <pipeline/mysql/job_log.hpp>

#include <array>
#include <limits>

#include <fmt/format.h>

#include "binding.hpp"
#include "checkpoint_table.hpp"
#include "row_reader.hpp"
#include "store_table.hpp"

namespace pipeline::mysql {
namespace {

// The columns after `id`, in the order of the parameters of INSERT and UPDATE.
constexpr std::string_view run_columns = "`job`, `state`, `owner`, `read`, `written`, `dead_lettered`, `retried`, "
                                         "`created`, `updated`, `lease_until`, `message`";

auto as_bytes(std::string_view s) -> value {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return value{bytes{p, p + s.size()}};
}

// Counts are unsigned; BIGINT is signed: stored modulo 2^64, read back exactly.
auto as_integer(std::uint64_t count) -> value { return value{static_cast<std::int64_t>(count)}; }
auto as_time(std::chrono::system_clock::time_point t) -> value {
  return value{std::chrono::floor<std::chrono::microseconds>(t)};
}

auto run_values(const job_run& run) -> std::array<value, 11> {
  return {as_bytes(run.job),       value{to_string(run.state)}, as_bytes(run.owner),     as_integer(run.read),
          as_integer(run.written), as_integer(run.dead_lettered), as_integer(run.retried), as_time(run.created),
          as_time(run.updated),    as_time(run.lease_until),      as_bytes(run.message)};
}

auto read_run(const record& row, std::string_view table) -> result<job_run> {
  job_run run;
  const auto count = [&](std::string_view name) {
    const auto* i = row.find(name)->get_if<std::int64_t>();
    return i != nullptr ? static_cast<std::uint64_t>(*i) : 0;
  };
  run.id = count("id");
  run.job = detail::text_of(row.find("job"));
  auto state = parse_run_state(detail::text_of(row.find("state")));
  if (!state) return permanent_error(fmt::format("job run {} in {}: {} does not read back", run.id, table, row));
  run.state = *state;
  run.owner = detail::text_of(row.find("owner"));
  run.read = count("read");
  run.written = count("written");
  run.dead_lettered = count("dead_lettered");
  run.retried = count("retried");
  for (auto [member, name] : {std::pair{&job_run::created, "created"}, std::pair{&job_run::updated, "updated"},
                              std::pair{&job_run::lease_until, "lease_until"}}) {
    const auto* t = row.find(name)->get_if<timestamp>();
    if (t == nullptr) return permanent_error(fmt::format("job run {} in {}: {} does not read back", run.id, table, row));
    run.*member = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*t);
  }
  run.message = detail::text_of(row.find("message"));
  return run;
}

}  // namespace

job_log::job_log(std::shared_ptr<database> db, std::string table) noexcept
    : db_(std::move(db)), table_(std::move(table)) {}

auto job_log::open(std::shared_ptr<database> db, const job_log_options& options) -> result<job_log> {
  auto table = detail::create_store_table(
      db, options.table, "mysql::job_log::open", [](detail::connection& c, const std::string& quoted) {
        return c.execute(fmt::format(
            "CREATE TABLE IF NOT EXISTS {} (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
            "`job` VARBINARY(255) NOT NULL, `state` VARCHAR(16) NOT NULL, `owner` VARBINARY(255) NOT NULL, "
            "`read` BIGINT NOT NULL, `written` BIGINT NOT NULL, `dead_lettered` BIGINT NOT NULL, "
            "`retried` BIGINT NOT NULL, `created` DATETIME(6) NOT NULL, `updated` DATETIME(6) NOT NULL, "
            "`lease_until` DATETIME(6) NOT NULL, `message` BLOB NOT NULL, KEY `by_job` (`job`, `id`)) ENGINE=InnoDB",
            quoted));
      });
  if (!table) return std::move(table).error();
  return job_log{std::move(db), std::move(*table)};
}

auto job_log::create(const job_run& run) -> result<std::uint64_t> {
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  auto st = (*c)->prepare(
      fmt::format("INSERT INTO {} ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", table_, run_columns));
  if (!st) return std::move(st).error();
  const auto values = run_values(run);
  auto bound = detail::parameters::bind(values);
  if (!bound) return std::move(bound).error();
  if (auto done = st->execute((*bound)->data(), fmt::format("creating a run of job '{}' in {}", run.job, table_));
      !done) {
    return std::move(done).error();
  }
  return static_cast<std::uint64_t>(mysql_stmt_insert_id(st->get()));
}

auto job_log::update(const job_run& run) -> result<void> {
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  std::vector<value> values;
  for (auto& v : run_values(run)) values.push_back(std::move(v));
  values.push_back(as_integer(run.id));
  const auto context = fmt::format("updating job run {} in {}", run.id, table_);
  // Affected rows count changed rows only: an update that rewrites the same values would
  // read as "no such id", so existence is checked apart, in the same transaction.
  return detail::in_transaction(**c, [&]() -> result<void> {
    const std::array id{as_integer(run.id)};
    auto found = detail::select_records(**c, fmt::format("SELECT `id` FROM {} WHERE `id` = ? FOR UPDATE", table_),
                                        id, context);
    if (!found) return std::move(found).error();
    if (found->empty()) return not_found_error(fmt::format("no job run with id {} in {}", run.id, table_));
    auto changed = detail::execute_bound(
        **c,
        fmt::format("UPDATE {} SET `job` = ?, `state` = ?, `owner` = ?, `read` = ?, `written` = ?, "
                    "`dead_lettered` = ?, `retried` = ?, `created` = ?, `updated` = ?, `lease_until` = ?, "
                    "`message` = ? WHERE `id` = ?",
                    table_),
        values, context);
    if (!changed) return std::move(changed).error();
    return ok();
  });
}

auto job_log::runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> {
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  const std::array params{as_bytes(job), value{static_cast<std::int64_t>(
                                             std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()))}};
  auto rows = detail::select_records(
      **c, fmt::format("SELECT `id`, {} FROM {} WHERE `job` = ? ORDER BY `id` DESC LIMIT ?", run_columns, table_),
      params, fmt::format("reading runs of job '{}' from {}", job, table_));
  if (!rows) return std::move(rows).error();
  std::vector<job_run> out;
  for (const auto& row : *rows) {
    auto run = read_run(row, table_);
    if (!run) return std::move(run).error();
    out.push_back(std::move(*run));
  }
  return out;
}

}  // namespace pipeline::mysql
