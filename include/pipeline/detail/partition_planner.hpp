#pragma once

// The partition planners of the SQL adapters (mysql, postgres), written once: each adapter
// names them (`pipeline::mysql::plan_key_ranges`, …) and instantiates them for its database
// in its src/ (src/relational/partition_planner.hpp has the definitions).

#include <cstdint>
#include <string>
#include <vector>

#include <pipeline/detail/keyset_reader.hpp>
#include <pipeline/partition.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail {

/// `count` id ranges covering MIN(`column`) … MAX(`column`) of `table` (one query), as
/// `pipeline::plan_id_ranges` splits them; an empty table gives no partitions. The column
/// must be an integer (a `permanent` error otherwise). Throws std::invalid_argument for a
/// name that is not an identifier or a count of 0, before any SQL is sent. Blocking;
/// thread-safe (it borrows a pooled connection).
///
///     auto plan = pipeline::postgres::plan_key_ranges(*db, "users", "id", 8).value();
template <class Database>
[[nodiscard]] auto plan_key_ranges(Database& db, const std::string& table, const std::string& column,
                                   std::uint32_t count) -> result<std::vector<partition>>;

/// Calendar intervals (days, ISO weeks or months) covering the dates of `column` (a date or
/// a timestamp) from its MIN to its MAX, as `pipeline::plan_time_intervals` makes them: e.g.
/// users by registration month. An empty table gives no partitions; another column type is a
/// `permanent` error. Names are checked as plan_key_ranges does. Blocking; thread-safe.
///
///     auto months = pipeline::mysql::plan_date_intervals(*db, "users", "registered",
///                                                        pipeline::interval_unit::month).value();
template <class Database>
[[nodiscard]] auto plan_date_intervals(Database& db, const std::string& table, const std::string& column,
                                       interval_unit unit) -> result<std::vector<partition>>;

/// `restrict_to(options, p, column)`: keyset `options` narrowed to partition `p` of a plan on
/// `column`. An id_range adds "column BETWEEN a AND b", a time_interval "column >= a AND
/// column < b", a category "column = a", ANDed to the existing filter, each value bound and
/// marked as the adapter's filter marks them (MySQL `?`; PostgreSQL `$n+1` … after the
/// filter's own `$1` … `$n`). Throws std::invalid_argument for a hash_bucket (no server
/// computes the library's FNV-1a hash) or a column that is not an identifier.
///
///     auto src = pipeline::postgres::keyset_source::open(db, pipeline::postgres::restrict_to(
///         {.table = "users", .key_columns = {"id"}}, month, "registered")).value();
template <class Database>
struct restrict_to_partition {
  [[nodiscard]] auto operator()(keyset_options options, const partition& p, const std::string& column) const
      -> keyset_options;
};

}  // namespace pipeline::detail
