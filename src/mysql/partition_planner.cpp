#include <pipeline/mysql/partition_planner.hpp>

#include <stdexcept>

#include <fmt/format.h>

#include "connection.hpp"
#include "row_reader.hpp"

namespace pipeline::mysql {
namespace {

// MIN and MAX of `column`, or an empty vector for an empty table.
auto min_max(database& db, const std::string& table, const std::string& column, std::string_view who)
    -> result<std::vector<value>> {
  const auto t = detail::quoted_identifier(table, fmt::format("{}: table", who));
  const auto c = detail::quoted_identifier(column, fmt::format("{}: column", who));
  auto rows = detail::database_access::read(db, {}, [&](detail::connection& conn) {
    return detail::select_records(conn, fmt::format("SELECT MIN({0}) AS lo, MAX({0}) AS hi FROM {1}", c, t), {},
                                  fmt::format("{} on {}.{}", who, table, column));
  });
  if (!rows) return std::move(rows).error();
  const auto& row = rows->front();
  if (row.find("lo")->is_null()) return std::vector<value>{};
  return std::vector<value>{*row.find("lo"), *row.find("hi")};
}

}  // namespace

auto plan_key_ranges(database& db, const std::string& table, const std::string& column, std::uint32_t count)
    -> result<std::vector<partition>> {
  if (count == 0) throw std::invalid_argument("mysql::plan_key_ranges: count is 0");
  auto bounds = min_max(db, table, column, "mysql::plan_key_ranges");
  if (!bounds) return std::move(bounds).error();
  if (bounds->empty()) return std::vector<partition>{};
  const auto* lo = (*bounds)[0].get_if<std::int64_t>();
  const auto* hi = (*bounds)[1].get_if<std::int64_t>();
  if (lo == nullptr || hi == nullptr) {
    return permanent_error(fmt::format("mysql::plan_key_ranges: {}.{} is not an integer column", table, column));
  }
  return plan_id_ranges(*lo, *hi, count);
}

auto plan_date_intervals(database& db, const std::string& table, const std::string& column, interval_unit unit)
    -> result<std::vector<partition>> {
  auto bounds = min_max(db, table, column, "mysql::plan_date_intervals");
  if (!bounds) return std::move(bounds).error();
  if (bounds->empty()) return std::vector<partition>{};
  const auto* lo = (*bounds)[0].get_if<timestamp>();
  const auto* hi = (*bounds)[1].get_if<timestamp>();
  if (lo == nullptr || hi == nullptr) {
    return permanent_error(fmt::format("mysql::plan_date_intervals: {}.{} is not a date column", table, column));
  }
  const auto from = std::chrono::floor<std::chrono::days>(*lo);
  const auto to = std::chrono::floor<std::chrono::days>(*hi) + std::chrono::days{1};
  return plan_time_intervals(from, to, unit);
}

auto restrict_to(keyset_source_options options, const partition& p, const std::string& column)
    -> keyset_source_options {
  const auto c = detail::quoted_identifier(column, "mysql::restrict_to: column");
  std::string condition;
  if (const auto* r = std::get_if<id_range>(&p.bounds)) {
    condition = fmt::format("{} BETWEEN ? AND ?", c);
    options.filter_parameters.emplace_back(r->first);
    options.filter_parameters.emplace_back(r->last);
  } else if (const auto* t = std::get_if<time_interval>(&p.bounds)) {
    condition = fmt::format("{0} >= ? AND {0} < ?", c);
    options.filter_parameters.emplace_back(timestamp{t->begin});
    options.filter_parameters.emplace_back(timestamp{t->end});
  } else if (const auto* k = std::get_if<category>(&p.bounds)) {
    condition = fmt::format("{} = ?", c);
    options.filter_parameters.emplace_back(k->value);
  } else {
    throw std::invalid_argument("mysql::restrict_to: a hash_bucket partition cannot be read by a MySQL filter");
  }
  options.filter = options.filter.empty() ? condition : fmt::format("({}) AND {}", options.filter, condition);
  return options;
}

}  // namespace pipeline::mysql
