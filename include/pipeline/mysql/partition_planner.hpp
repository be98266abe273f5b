#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pipeline/mysql/database.hpp>
#include <pipeline/mysql/keyset_source.hpp>
#include <pipeline/partition.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mysql {

/// `count` id ranges covering MIN(`column`) … MAX(`column`) of `table` (one query), as
/// `pipeline::plan_id_ranges` splits them; an empty table gives no partitions. The column
/// must be an integer. Throws std::invalid_argument for a name that is not an identifier or
/// a count of 0, before any SQL is sent. Blocking; thread-safe.
///
///     auto plan = pipeline::mysql::plan_key_ranges(*db, "users", "id", 8).value();
[[nodiscard]] auto plan_key_ranges(database& db, const std::string& table, const std::string& column,
                                   std::uint32_t count) -> result<std::vector<partition>>;

/// Calendar intervals (days, ISO weeks or months) covering the dates of `column` (a DATE,
/// DATETIME or TIMESTAMP) from its MIN to its MAX, as `pipeline::plan_time_intervals` makes
/// them: e.g. users by registration month. An empty table gives no partitions.
///
///     auto months = pipeline::mysql::plan_date_intervals(*db, "users", "registered",
///                                                        pipeline::interval_unit::month).value();
[[nodiscard]] auto plan_date_intervals(database& db, const std::string& table, const std::string& column,
                                       interval_unit unit) -> result<std::vector<partition>>;

/// `options` narrowed to partition `p` of a plan on `column`: an id_range adds
/// "`column` BETWEEN ? AND ?", a time_interval "`column` >= ? AND `column` < ?" (bound), a
/// category "`column` = ?"; ANDed to the existing filter. A hash_bucket throws
/// std::invalid_argument (MySQL cannot compute the library's FNV-1a hash).
[[nodiscard]] auto restrict_to(keyset_source_options options, const partition& p, const std::string& column)
    -> keyset_source_options;

}  // namespace pipeline::mysql
