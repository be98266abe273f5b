#include <pipeline/postgres/partition_planner.hpp>

#include <fmt/format.h>

#include "connection.hpp"
#include "relational/partition_planner.hpp"
#include "row_reader.hpp"

namespace pipeline::postgres {

// The one row of `sql`, on a pooled connection (read again on a new one when it was lost).
auto read_one_row(database& db, const std::string& sql, std::string_view context) -> result<record> {
  auto rows = detail::database_access::read(db, {}, [&](detail::connection& c) { return c.query(sql, nullptr, context); });
  if (!rows) return std::move(rows).error();
  if (PQntuples(rows->get()) == 0) return internal_error(fmt::format("{}: no row", context));
  std::optional<error> problem;
  auto row = detail::row_record(rows->get(), 0, problem);
  if (problem) return std::move(*problem);
  return row;
}

}  // namespace pipeline::postgres

template auto pipeline::detail::plan_key_ranges(pipeline::postgres::database&, const std::string&, const std::string&,
                                                std::uint32_t) -> result<std::vector<partition>>;
template auto pipeline::detail::plan_date_intervals(pipeline::postgres::database&, const std::string&,
                                                    const std::string&, interval_unit)
    -> result<std::vector<partition>>;
template struct pipeline::detail::restrict_to_partition<pipeline::postgres::database>;
