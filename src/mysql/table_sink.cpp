#include <pipeline/mysql/table_sink.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>

#include "binding.hpp"
#include "checkpoint_table.hpp"
#include "connection.hpp"

namespace pipeline::mysql {
namespace {

constexpr std::string_view who = "mysql::table_sink::open";

// The names of `option` quoted, after checking each is an identifier, unique, and (when
// `allowed` is given) one of `allowed`.
auto quoted_names(const std::vector<std::string>& names, std::string_view option,
                  const std::vector<std::string>* allowed) -> std::vector<std::string> {
  const auto what = fmt::format("{}: options.{}", who, option);
  pipeline::detail::require_column_names(names, what, allowed);
  std::vector<std::string> quoted;
  for (const auto& name : names) quoted.push_back(detail::quoted_identifier(name, what));
  return quoted;
}

auto insert_sql(const table_sink_options& options, std::string_view table) -> std::string {
  if (options.columns.empty()) throw std::invalid_argument(fmt::format("{}: options.columns is empty", who));
  if (options.rows_per_statement == 0) throw std::invalid_argument(fmt::format("{}: options.rows_per_statement is 0", who));
  const auto columns = quoted_names(options.columns, "columns", nullptr);
  const auto updates = quoted_names(options.update_columns, "update_columns", &options.columns);
  const auto adds = quoted_names(options.add_columns, "add_columns", &options.columns);
  std::vector<std::string_view> marks(columns.size(), "?");
  auto sql = fmt::format("INSERT{} INTO {} ({}) VALUES ({})",
                         options.mode == write_mode::insert_ignore ? " IGNORE" : "", table, fmt::join(columns, ", "),
                         fmt::join(marks, ", "));
  if (options.mode != write_mode::upsert) {
    if (!updates.empty() || !adds.empty()) {
      throw std::invalid_argument(
          fmt::format("{}: options.update_columns and add_columns are for write_mode::upsert only", who));
    }
    return sql;
  }
  pipeline::detail::require_apart(options.update_columns, "update_columns", options.add_columns, "add_columns", who);
  std::vector<std::string> assignments;
  for (const auto& u : updates) assignments.push_back(fmt::format("{0} = VALUES({0})", u));
  for (const auto& a : adds) assignments.push_back(fmt::format("{0} = {0} + VALUES({0})", a));
  if (assignments.empty()) assignments.push_back(fmt::format("{0} = {0}", columns.front()));
  fmt::format_to(std::back_inserter(sql), " ON DUPLICATE KEY UPDATE {}", fmt::join(assignments, ", "));
  return sql;
}

// "YYYY-MM-DD HH:MM:SS.ffffff", for a timestamp in a column sent as text.
auto time_text(const MYSQL_TIME& m) -> std::string {
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", m.year, m.month, m.day, m.hour, m.minute, m.second,
                     m.second_part);
}

// One column of a chunk of rows, bound column-wise for array binding: `indicators` marks the
// NULLs; fixed-size values sit in an array, variable ones are pointers and lengths.
struct column_array {
  std::vector<char> indicators;
  std::vector<std::int64_t> ints;
  std::vector<double> doubles;
  std::vector<MYSQL_TIME> times;
  std::vector<std::string> texts;  // values converted to text (a column of mixed kinds)
  // Connector/C reads variable-length values, and MYSQL_TIMEs (no fixed pack length there),
  // through an array of pointers.
  std::vector<const void*> pointers;
  std::vector<unsigned long> lengths;
};

// The kind a column is sent as: the kind its non-null values share (bool counted as
// int64), or string when they differ.
auto column_kind(std::span<const record> rows, const std::string& name) -> value_kind {
  std::optional<value_kind> kind;
  for (const auto& r : rows) {
    const value* v = r.find(name);
    if (v == nullptr || v->is_null()) continue;
    auto k = v->kind() == value_kind::boolean ? value_kind::int64 : v->kind();
    if (!kind) kind = k;
    else if (*kind != k) return value_kind::string;
  }
  return kind.value_or(value_kind::null);
}

auto as_int(const value& v) -> std::int64_t {
  if (const auto* b = v.get_if<bool>()) return *b ? 1 : 0;
  return *v.get_if<std::int64_t>();
}

// Fills `col` and `bind` for rows [0, n) of `rows`; an `invalid_input` error names a value
// the server could not hold as it is.
auto bind_column(std::span<const record> rows, const std::string& name, column_array& col, MYSQL_BIND& bind)
    -> result<void> {
  const std::size_t n = rows.size();
  std::memset(&bind, 0, sizeof bind);
  col.indicators.assign(n, STMT_INDICATOR_NONE);
  const value_kind kind = column_kind(rows, name);
  const auto bad = [&](std::size_t row, const value& v, std::string_view why) {
    return invalid_input_error(fmt::format("row {} of {}: field \"{}\" {} {}", row, n, name, v, why));
  };
  const auto each = [&](auto&& put) -> result<void> {
    for (std::size_t i = 0; i < n; ++i) {
      const value* v = rows[i].find(name);
      if (v == nullptr || v->is_null()) {
        col.indicators[i] = STMT_INDICATOR_NULL;
        continue;
      }
      if (auto done = put(i, *v); !done) return done;
    }
    return ok();
  };
  result<void> filled = ok();
  switch (kind) {
    case value_kind::null:
    case value_kind::boolean:
    case value_kind::int64:
      col.ints.assign(n, 0);
      filled = each([&](std::size_t i, const value& v) -> result<void> {
        col.ints[i] = as_int(v);
        return ok();
      });
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.buffer = col.ints.data();
      break;
    case value_kind::float64:
      col.doubles.assign(n, 0);
      filled = each([&](std::size_t i, const value& v) -> result<void> {
        const double d = *v.get_if<double>();
        if (!std::isfinite(d)) return bad(i, v, "is not finite, which MySQL cannot store");
        col.doubles[i] = d;
        return ok();
      });
      bind.buffer_type = MYSQL_TYPE_DOUBLE;
      bind.buffer = col.doubles.data();
      break;
    case value_kind::datetime:
      col.times.assign(n, MYSQL_TIME{});
      col.pointers.assign(n, nullptr);
      filled = each([&](std::size_t i, const value& v) -> result<void> {
        auto m = detail::to_mysql_time(*v.get_if<timestamp>());
        if (!m) return bad(i, v, "is outside the years 0000-9999 that DATETIME holds");
        col.times[i] = *m;
        col.pointers[i] = &col.times[i];
        return ok();
      });
      bind.buffer_type = MYSQL_TYPE_DATETIME;
      bind.buffer = col.pointers.data();
      break;
    case value_kind::string:
    case value_kind::binary:
      col.pointers.assign(n, nullptr);
      col.lengths.assign(n, 0);
      col.texts.assign(n, std::string{});
      filled = each([&](std::size_t i, const value& v) -> result<void> {
        if (const auto* s = v.get_if<std::string>()) {
          col.pointers[i] = s->empty() ? "" : s->data();
          col.lengths[i] = s->size();
          return ok();
        }
        if (const auto* b = v.get_if<bytes>()) {
          col.pointers[i] = b->empty() ? "" : static_cast<const void*>(b->data());
          col.lengths[i] = b->size();
          return ok();
        }
        // A column of mixed kinds: this value as text, which the server converts.
        if (const auto* t = v.get_if<timestamp>()) {
          auto m = detail::to_mysql_time(*t);
          if (!m) return bad(i, v, "is outside the years 0000-9999 that DATETIME holds");
          col.texts[i] = time_text(*m);
        } else if (const auto* d = v.get_if<double>()) {
          if (!std::isfinite(*d)) return bad(i, v, "is not finite, which MySQL cannot store");
          col.texts[i] = fmt::format("{}", *d);
        } else {
          col.texts[i] = std::to_string(as_int(v));
        }
        col.pointers[i] = col.texts[i].data();
        col.lengths[i] = col.texts[i].size();
        return ok();
      });
      bind.buffer_type = kind == value_kind::binary ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
      bind.buffer = col.pointers.data();
      bind.length = col.lengths.data();
      break;
  }
  bind.u.indicator = col.indicators.data();
  return filled;
}

}  // namespace

table_sink::table_sink(std::shared_ptr<database> db, std::string table, std::vector<std::string> columns,
                       std::string sql, std::size_t rows_per_statement, std::string checkpoint_table) noexcept
    : db_(std::move(db)),
      table_(std::move(table)),
      columns_(std::move(columns)),
      insert_sql_(std::move(sql)),
      rows_per_statement_(rows_per_statement),
      checkpoint_table_(std::move(checkpoint_table)) {}

auto table_sink::open(std::shared_ptr<database> db, const table_sink_options& options) -> result<table_sink> {
  detail::require_database(db, who);
  auto table = detail::quoted_identifier(options.table, fmt::format("{}: options.table", who));
  auto checkpoint_table =
      detail::quoted_identifier(options.checkpoint_table, fmt::format("{}: options.checkpoint_table", who));
  auto sql = insert_sql(options, table);
  {
    auto c = detail::database_access::borrow(*db);
    if (!c) return std::move(c).error();
    if (auto prepared = (*c)->prepare(sql); !prepared) return std::move(prepared).error();
  }
  return table_sink{std::move(db), std::move(table), options.columns, std::move(sql), options.rows_per_statement,
                    std::move(checkpoint_table)};
}

auto table_sink::insert_rows(detail::connection& c, std::span<const record> records, const std::stop_token& stop) const
    -> result<void> {
  auto st = c.prepare(insert_sql_);
  if (!st) return std::move(st).error();
  std::vector<column_array> columns(columns_.size());
  std::vector<MYSQL_BIND> binds(columns_.size());
  for (std::size_t first = 0; first < records.size(); first += rows_per_statement_) {
    if (stop.stop_requested()) return stopped_error();
    const auto chunk = records.subspan(first, std::min(rows_per_statement_, records.size() - first));
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (auto bound = bind_column(chunk, columns_[i], columns[i], binds[i]); !bound) {
        auto e = std::move(bound).error();
        e.message = fmt::format("into {} (rows from {}): {}", table_, first, e.message);
        return e;
      }
    }
    auto size = static_cast<unsigned int>(chunk.size());
    if (mysql_stmt_attr_set(st->get(), STMT_ATTR_ARRAY_SIZE, &size) != 0) {
      return st->failure("setting STMT_ATTR_ARRAY_SIZE");
    }
    const auto context = fmt::format("inserting rows {}-{} of {} into {}", first, first + chunk.size() - 1,
                                     records.size(), table_);
    if (auto done = st->execute(binds.data(), context); !done) return done;
  }
  return ok();
}

auto table_sink::write(std::span<const record> records, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  if (records.empty()) return ok();
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  return detail::in_transaction(**c, [&] { return insert_rows(**c, records, stop); });
}

auto table_sink::write_with_checkpoint(std::span<const record> records, std::string_view key, const position& pos,
                                       std::uint64_t expected_version, std::stop_token stop)
    -> result<std::uint64_t> {
  if (stop.stop_requested()) return stopped_error();
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  // DDL commits implicitly in MySQL: the table is made before the transaction begins.
  if (auto created = detail::create_checkpoint_table(**c, checkpoint_table_); !created) {
    return std::move(created).error();
  }
  return detail::in_transaction(**c, [&]() -> result<std::uint64_t> {
    // The fence first: a stale writer is turned away before it sends a row.
    auto saved = detail::save_checkpoint(**c, checkpoint_table_, key, pos, expected_version);
    if (!saved) return std::move(saved).error();
    // A retry of a write whose COMMIT landed unseen: its rows are in already.
    if (saved->already_stored || records.empty()) return saved->version;
    if (auto rows = insert_rows(**c, records, stop); !rows) return std::move(rows).error();
    return saved->version;
  });
}

}  // namespace pipeline::mysql
