#include <array>
#include <charconv>
#include <chrono>
#include <functional>

#include <fmt/format.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>

#include "relational/stores.hpp"

namespace pipeline::detail::relational {
namespace {

// The columns every dialect's table has, in the order they are written and read after "id".
constexpr std::array<std::string_view, 10> letter_columns{"payload",  "kind",     "message",   "native_code",
                                                          "backend",  "attempts", "position",  "partition",
                                                          "time",     "job"};

// The entry in the current row of the SELECT in `select_dead_letters`; column 0 is the id.
auto read_letter(const statement& st, std::int64_t id, std::string_view table) -> result<dead_letter> {
  const auto kind = parse_error_kind(st.text_at(2));
  const auto time = st.time_at(9);
  if (!kind || !time) {
    return permanent_error(fmt::format("dead letter {} in {}: {} '{}' does not read back", id, table,
                                       kind ? "time" : "kind", st.text_at(kind ? 9 : 2)));
  }
  dead_letter letter;
  letter.payload = std::string(st.text_at(1));
  letter.reason = error{*kind, std::string(st.text_at(3)), st.int64_at(4).value_or(0), std::string(st.text_at(5))};
  letter.attempts = static_cast<std::uint32_t>(st.int64_at(6).value_or(0));
  letter.pos = position{std::string(st.text_at(7))};
  letter.partition = static_cast<std::uint32_t>(st.int64_at(8).value_or(0));
  letter.time = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*time);
  letter.job = std::string(st.text_at(10));
  return letter;
}

// A filter as SQL: " AND <column> <op> <placeholder>" for each field set, numbering the
// placeholders from `next`, and the binds that fill them, in the same order.
struct where_clause {
  std::string sql;
  std::vector<std::function<void(statement&)>> binds;
};

auto filter_clause(const dialect& d, const dead_letter_filter& filter, std::size_t next) -> where_clause {
  where_clause w;
  const auto add = [&](std::string_view column, std::string_view op, std::function<void(statement&, int)> bind) {
    const auto index = static_cast<int>(next);
    w.sql += fmt::format(" AND {} {} {}", d.quote(column), op, d.placeholder(next++));
    w.binds.emplace_back([bind = std::move(bind), index](statement& st) { bind(st, index); });
  };
  if (filter.kind) add("kind", "=", [k = to_string(*filter.kind)](statement& st, int i) { st.bind_text(i, k); });
  if (filter.partition) add("partition", "=", [p = *filter.partition](statement& st, int i) { st.bind_int64(i, p); });
  if (filter.from) add("time", ">=", [t = *filter.from](statement& st, int i) { st.bind_time(i, t); });
  if (filter.to) add("time", "<", [t = *filter.to](statement& st, int i) { st.bind_time(i, t); });
  if (filter.job) add("job", "=", [j = *filter.job](statement& st, int i) { st.bind_text(i, j); });
  return w;
}

auto parse_id(std::string_view id, std::string_view table) -> result<std::int64_t> {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc{} || end != id.data() + id.size()) {
    return invalid_input_error(fmt::format("'{}' is not an id of dead letter table {}", id, table));
  }
  return n;
}

}  // namespace

auto insert_dead_letters(connection& c, std::string_view table, std::span<const dead_letter> letters)
    -> result<void> {
  const auto& d = c.sql_dialect();
  std::vector<std::string_view> columns(letter_columns.begin(), letter_columns.end());
  columns.push_back(d.dead_letter_identity_column());
  const auto key = d.dead_letter_key();
  auto st = c.prepare(fmt::format("INSERT INTO {} ({}) VALUES ({}){}", table, quoted_list(d, columns),
                                  placeholders(d, 1, columns.size()), d.upsert_clause(table, key, key, {}, {})));
  if (!st) return std::move(st).error();
  auto& s = **st;
  const auto fingerprints = dead_letter_fingerprints(letters);
  for (std::size_t i = 0; i < letters.size(); ++i) {
    const auto& l = letters[i];
    s.bind_bytes(1, l.payload);
    s.bind_text(2, to_string(l.reason.kind));
    s.bind_text(3, l.reason.message);
    s.bind_int64(4, l.reason.native_code);
    s.bind_text(5, l.reason.backend);
    s.bind_int64(6, l.attempts);
    s.bind_bytes(7, l.pos.bytes());
    s.bind_int64(8, l.partition);
    s.bind_time(9, l.time);
    s.bind_text(10, l.job);
    s.bind_text(11, d.dead_letter_identity(l, fingerprints[i]));
    if (auto done = s.execute(fmt::format("dead letter {} of {} into {}", i, letters.size(), table)); !done) {
      return done;
    }
  }
  return ok();
}

auto select_dead_letters(connection& c, std::string_view table, std::int64_t after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::int64_t, dead_letter>>> {
  const auto& d = c.sql_dialect();
  const auto id = d.quote("id");
  auto st = c.prepare(fmt::format("SELECT {}, {} FROM {} WHERE {} > {} ORDER BY {} LIMIT {}", id,
                                  quoted_list(d, letter_columns), table, id, d.placeholder(1), id, d.placeholder(2)));
  if (!st) return std::move(st).error();
  auto& s = **st;
  s.bind_int64(1, after_id);
  s.bind_int64(2, limit_parameter(limit));
  if (auto done = s.execute(fmt::format("reading dead letters from {}", table)); !done) return std::move(done).error();
  return collect_rows(s, [&](const statement& row) -> result<std::pair<std::int64_t, dead_letter>> {
    const std::int64_t letter_id = row.int64_at(0).value_or(0);
    auto letter = read_letter(row, letter_id, table);
    if (!letter) return std::move(letter).error();
    return std::pair{letter_id, std::move(*letter)};
  });
}

auto select_dead_letters(connection& c, std::string_view table, const dead_letter_filter& filter,
                         const std::optional<std::string>& after_id, std::size_t limit)
    -> result<std::vector<stored_dead_letter>> {
  std::int64_t after = 0;
  if (after_id) {
    auto parsed = parse_id(*after_id, table);
    if (!parsed) return std::move(parsed).error();
    after = *parsed;
  }
  const auto& d = c.sql_dialect();
  const auto id = d.quote("id");
  const auto where = filter_clause(d, filter, 2);
  auto st = c.prepare(fmt::format("SELECT {}, {} FROM {} WHERE {} > {}{} ORDER BY {} LIMIT {}", id,
                                  quoted_list(d, letter_columns), table, id, d.placeholder(1), where.sql, id,
                                  d.placeholder(2 + where.binds.size())));
  if (!st) return std::move(st).error();
  auto& s = **st;
  s.bind_int64(1, after);
  for (const auto& bind : where.binds) bind(s);
  s.bind_int64(static_cast<int>(2 + where.binds.size()), limit_parameter(limit));
  if (auto done = s.execute(fmt::format("reading dead letters from {}", table)); !done) return std::move(done).error();
  return collect_rows(s, [&](const statement& row) -> result<stored_dead_letter> {
    const std::int64_t letter_id = row.int64_at(0).value_or(0);
    auto letter = read_letter(row, letter_id, table);
    if (!letter) return std::move(letter).error();
    return stored_dead_letter{std::to_string(letter_id), std::move(*letter)};
  });
}

auto delete_dead_letters(connection& c, std::string_view table, std::span<const std::string> ids) -> result<void> {
  const auto& d = c.sql_dialect();
  auto st = c.prepare(fmt::format("DELETE FROM {} WHERE {} = {}", table, d.quote("id"), d.placeholder(1)));
  if (!st) return std::move(st).error();
  for (const auto& id : ids) {
    auto parsed = parse_id(id, table);
    if (!parsed) return std::move(parsed).error();
    (*st)->bind_int64(1, *parsed);
    if (auto done = (*st)->execute(fmt::format("resolving dead letter {} in {}", id, table)); !done) return done;
  }
  return ok();
}

auto record_dead_letter_failures(connection& c, std::string_view table, std::span<const failed_replay> failures)
    -> result<void> {
  const auto& d = c.sql_dialect();
  const std::array<std::string_view, 4> reason_columns{"kind", "message", "native_code", "backend"};
  std::string assignments = fmt::format("{0} = {0} + 1", d.quote("attempts"));
  for (std::size_t i = 0; i < reason_columns.size(); ++i) {
    assignments += fmt::format(", {} = {}", d.quote(reason_columns[i]), d.placeholder(i + 1));
  }
  auto st = c.prepare(fmt::format("UPDATE {} SET {} WHERE {} = {}", table, assignments, d.quote("id"), d.placeholder(5)));
  if (!st) return std::move(st).error();
  auto& s = **st;
  for (const auto& f : failures) {
    auto parsed = parse_id(f.id, table);
    if (!parsed) return std::move(parsed).error();
    s.bind_text(1, to_string(f.reason.kind));
    s.bind_text(2, f.reason.message);
    s.bind_int64(3, f.reason.native_code);
    s.bind_text(4, f.reason.backend);
    s.bind_int64(5, *parsed);
    if (auto done = s.execute(fmt::format("recording a failed replay of dead letter {} in {}", f.id, table)); !done) {
      return done;
    }
  }
  return ok();
}

auto purge_dead_letters(connection& c, std::string_view table, const dead_letter_filter& filter)
    -> result<std::size_t> {
  const auto& d = c.sql_dialect();
  // "1 = 1" so that every field of the filter adds an AND.
  const auto where = filter_clause(d, filter, 1);
  auto st = c.prepare(fmt::format("DELETE FROM {} WHERE 1 = 1{}", table, where.sql));
  if (!st) return std::move(st).error();
  for (const auto& bind : where.binds) bind(**st);
  if (auto done = (*st)->execute(fmt::format("purging dead letters from {}", table)); !done) {
    return std::move(done).error();
  }
  return static_cast<std::size_t>((*st)->affected_rows());
}

auto add_column_if_missing(connection& c, std::string_view quoted_table, std::string_view column,
                           std::string_view definition) -> result<void> {
  // Preparing checks that the column exists, in every dialect, with no catalogue query. The
  // name is qualified: sqlite reads an unknown bare "name" as a string literal.
  if (c.prepare(fmt::format("SELECT {0}.{1} FROM {0} WHERE 1 = 0", quoted_table, c.sql_dialect().quote(column)))) {
    return ok();
  }
  return c.execute(
      fmt::format("ALTER TABLE {} ADD COLUMN {} {}", quoted_table, c.sql_dialect().quote(column), definition));
}

}  // namespace pipeline::detail::relational
