#include <pipeline/sqlite/table_sink.hpp>

#include <cmath>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>
#include <pipeline/detail/time_text.hpp>

#include "arguments.hpp"
#include "checkpoint_table.hpp"
#include "connection.hpp"

namespace pipeline::sqlite {
namespace {

constexpr std::string_view who = "sqlite::table_sink::open";

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

// The INSERT statement of `options`, every name checked and quoted.
auto insert_sql(const table_sink_options& options, std::string_view table) -> std::string {
  if (options.columns.empty()) throw std::invalid_argument(fmt::format("{}: options.columns is empty", who));
  const auto columns = quoted_names(options.columns, "columns", nullptr);
  const auto keys = quoted_names(options.key_columns, "key_columns", &options.columns);
  const auto updates = quoted_names(options.update_columns, "update_columns", &options.columns);
  const auto adds = quoted_names(options.add_columns, "add_columns", &options.columns);

  std::vector<std::string> parameters;
  for (std::size_t i = 1; i <= columns.size(); ++i) parameters.push_back(fmt::format("?{}", i));
  auto sql = fmt::format("INSERT{} INTO {} ({}) VALUES ({})",
                         options.mode == write_mode::insert_or_ignore ? " OR IGNORE" : "", table,
                         fmt::join(columns, ", "), fmt::join(parameters, ", "));
  if (options.mode != write_mode::upsert) {
    if (!keys.empty() || !updates.empty() || !adds.empty()) {
      throw std::invalid_argument(fmt::format(
          "{}: options.key_columns, update_columns and add_columns are for write_mode::upsert only", who));
    }
    return sql;
  }
  if (keys.empty()) throw std::invalid_argument(fmt::format("{}: upsert needs options.key_columns", who));
  using pipeline::detail::require_apart;
  require_apart(options.update_columns, "update_columns", options.key_columns, "key_columns", who);
  require_apart(options.add_columns, "add_columns", options.key_columns, "key_columns", who);
  require_apart(options.update_columns, "update_columns", options.add_columns, "add_columns", who);

  std::vector<std::string> assignments;
  for (const auto& u : updates) assignments.push_back(fmt::format("{0} = excluded.{0}", u));
  for (const auto& a : adds) assignments.push_back(fmt::format("{0} = {0} + excluded.{0}", a));
  fmt::format_to(std::back_inserter(sql), " ON CONFLICT ({}) ", fmt::join(keys, ", "));
  if (assignments.empty()) sql += "DO NOTHING";
  else fmt::format_to(std::back_inserter(sql), "DO UPDATE SET {}", fmt::join(assignments, ", "));
  return sql;
}

// Binds `v` as parameter `index`, or says why sqlite would not keep it as it is.
auto bind_value(detail::statement& st, int index, const value& v) -> std::optional<std::string_view> {
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

}  // namespace

table_sink::table_sink(std::shared_ptr<database> db, std::string table, std::vector<std::string> columns,
                       std::string sql, std::string checkpoint_table) noexcept
    : db_(std::move(db)),
      table_(std::move(table)),
      columns_(std::move(columns)),
      insert_sql_(std::move(sql)),
      checkpoint_table_(std::move(checkpoint_table)) {}

auto table_sink::open(std::shared_ptr<database> db, const table_sink_options& options) -> result<table_sink> {
  detail::require_database(db, who);
  auto table = detail::quoted_identifier(options.table, fmt::format("{}: options.table", who));
  auto checkpoint_table =
      detail::quoted_identifier(options.checkpoint_table, fmt::format("{}: options.checkpoint_table", who));
  auto sql = insert_sql(options, table);
  {
    detail::session s{*db};
    if (auto prepared = s.prepare(sql); !prepared) return std::move(prepared).error();
  }
  return table_sink{std::move(db), std::move(table), options.columns, std::move(sql), std::move(checkpoint_table)};
}

auto table_sink::insert_rows(detail::session& s, std::span<const record> records, const std::stop_token& stop) const
    -> result<void> {
  auto st = s.prepare(insert_sql_);
  if (!st) return std::move(st).error();
  for (std::size_t row = 0; row < records.size(); ++row) {
    if (stop.stop_requested()) return stopped_error();
    const auto context = fmt::format("row {} of {} into {}", row, records.size(), table_);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const int index = static_cast<int>(c + 1);
      const value* v = records[row].find(columns_[c]);
      if (v == nullptr) {
        st->bind_null(index);
      } else if (auto problem = bind_value(*st, index, *v)) {
        return invalid_input_error(fmt::format("{}: field \"{}\" {}", context, columns_[c], *problem));
      }
    }
    if (auto done = st->step(context); !done) return std::move(done).error();
    st->reset();
  }
  return ok();
}

auto table_sink::write(std::span<const record> records, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  if (records.empty()) return ok();
  detail::session s{*db_};
  return detail::in_transaction(s, [&] { return insert_rows(s, records, stop); });
}

auto table_sink::write_with_checkpoint(std::span<const record> records, std::string_view key, const position& pos,
                                       std::uint64_t expected_version, std::stop_token stop)
    -> result<std::uint64_t> {
  if (stop.stop_requested()) return stopped_error();
  detail::session s{*db_};
  return detail::in_transaction(s, [&]() -> result<std::uint64_t> {
    if (auto created = detail::create_checkpoint_table(s, checkpoint_table_); !created) {
      return std::move(created).error();
    }
    // The fence first: a stale writer is turned away before it binds a single row.
    auto version = detail::save_checkpoint(s, checkpoint_table_, key, pos, expected_version);
    if (!version) return version;
    if (auto rows = insert_rows(s, records, stop); !rows) return std::move(rows).error();
    return version;
  });
}

}  // namespace pipeline::sqlite
