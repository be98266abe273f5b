#pragma once

// The definitions of the partition planners (include/pipeline/detail/partition_planner.hpp)
// and of `restrict_to`, for an adapter to instantiate for its `Database` in a source file that
// declares, in the adapter's namespace (found by argument-dependent lookup):
//
//     auto sql_spelling_of(const database*) -> const pipeline::detail::sql_spelling&;
//     auto read_one_row(database&, const std::string& sql, std::string_view context) -> result<record>;
//
// and then `template auto pipeline::detail::plan_key_ranges(mysql::database&, …) -> …;` for each
// planner and `template struct pipeline::detail::restrict_to_partition<mysql::database>;`.

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include <pipeline/detail/keyset_reader.hpp>
#include <pipeline/detail/partition_planner.hpp>

namespace pipeline::detail {

/// MIN and MAX of `column` in `table` ("lo", "hi"), or an empty vector for an empty table;
/// `who` starts the messages.
template <class Database>
auto read_min_max(Database& db, const std::string& table, const std::string& column, std::string_view who)
    -> result<std::vector<value>> {
  const auto& spelling = sql_spelling_of(&db);
  const auto t = spelling.quote(table, fmt::format("{}: table", who));
  const auto c = spelling.quote(column, fmt::format("{}: column", who));
  auto row = read_one_row(db, fmt::format("SELECT MIN({0}) AS lo, MAX({0}) AS hi FROM {1}", c, t),
                          fmt::format("{} on {}.{}", who, table, column));
  if (!row) return std::move(row).error();
  const value* lo = row->find("lo");
  const value* hi = row->find("hi");
  if (lo == nullptr || hi == nullptr) return internal_error(fmt::format("{}: MIN/MAX read no lo and hi", who));
  if (lo->is_null()) return std::vector<value>{};
  return std::vector<value>{*lo, *hi};
}

template <class Database>
auto plan_key_ranges(Database& db, const std::string& table, const std::string& column, std::uint32_t count)
    -> result<std::vector<partition>> {
  const auto who = fmt::format("{}::plan_key_ranges", sql_spelling_of(&db).adapter);
  if (count == 0) throw std::invalid_argument(fmt::format("{}: count is 0", who));
  result<std::vector<value>> bounds = read_min_max(db, table, column, who);
  if (!bounds) return std::move(bounds).error();
  if (bounds->empty()) return std::vector<partition>{};
  const auto* lo = (*bounds)[0].get_if<std::int64_t>();
  const auto* hi = (*bounds)[1].get_if<std::int64_t>();
  if (lo == nullptr || hi == nullptr) {
    return permanent_error(fmt::format("{}: {}.{} is not an integer column", who, table, column));
  }
  return plan_id_ranges(*lo, *hi, count);
}

template <class Database>
auto plan_date_intervals(Database& db, const std::string& table, const std::string& column, interval_unit unit)
    -> result<std::vector<partition>> {
  const auto who = fmt::format("{}::plan_date_intervals", sql_spelling_of(&db).adapter);
  result<std::vector<value>> bounds = read_min_max(db, table, column, who);
  if (!bounds) return std::move(bounds).error();
  if (bounds->empty()) return std::vector<partition>{};
  const auto* lo = (*bounds)[0].get_if<timestamp>();
  const auto* hi = (*bounds)[1].get_if<timestamp>();
  if (lo == nullptr || hi == nullptr) {
    return permanent_error(fmt::format("{}: {}.{} is not a date column", who, table, column));
  }
  const auto from = std::chrono::floor<std::chrono::days>(*lo);
  const auto to = std::chrono::floor<std::chrono::days>(*hi) + std::chrono::days{1};
  return plan_time_intervals(from, to, unit);
}

// The spelling is the database type's, found without a database (there is none at hand).
template <class Database>
auto restrict_to_partition<Database>::operator()(keyset_options options, const partition& p,
                                                 const std::string& column) const -> keyset_options {
  const auto& spelling = sql_spelling_of(static_cast<const Database*>(nullptr));
  const auto who = fmt::format("{}::restrict_to", spelling.adapter);
  const auto c = spelling.quote(column, fmt::format("{}: column", who));
  const auto mark = [&](const value& v) {
    options.filter_parameters.push_back(v);
    return spelling.mark(options.filter_parameters.size());
  };
  std::string condition;
  if (const auto* r = std::get_if<id_range>(&p.bounds)) {
    const auto first = mark(value{r->first});
    condition = fmt::format("{} BETWEEN {} AND {}", c, first, mark(value{r->last}));
  } else if (const auto* t = std::get_if<time_interval>(&p.bounds)) {
    const auto begin = mark(value{timestamp{t->begin}});
    condition = fmt::format("{0} >= {1} AND {0} < {2}", c, begin, mark(value{timestamp{t->end}}));
  } else if (const auto* k = std::get_if<category>(&p.bounds)) {
    condition = fmt::format("{} = {}", c, mark(value{k->value}));
  } else {
    throw std::invalid_argument(fmt::format("{}: a hash_bucket partition cannot be read by a SQL filter", who));
  }
  options.filter = options.filter.empty() ? condition : fmt::format("({}) AND {}", options.filter, condition);
  return options;
}

}  // namespace pipeline::detail
