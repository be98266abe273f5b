#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pipeline {

/// Keys `first` to `last`, both included.
struct id_range {
  std::int64_t first = 0;
  std::int64_t last = 0;
  friend auto operator==(const id_range&, const id_range&) -> bool = default;
};

/// The keys whose `hash_bucket_of(key, buckets)` is `bucket`.
struct hash_bucket {
  std::uint32_t bucket = 0;
  std::uint32_t buckets = 1;
  friend auto operator==(const hash_bucket&, const hash_bucket&) -> bool = default;
};

/// The records whose category column equals `value`.
struct category {
  std::string value;
  friend auto operator==(const category&, const category&) -> bool = default;
};

/// Days from `begin` (included) to `end` (excluded), in UTC.
struct time_interval {
  std::chrono::sys_days begin{};
  std::chrono::sys_days end{};
  friend auto operator==(const time_interval&, const time_interval&) -> bool = default;
};

/// One share of a job: what to read, and a name that keys its checkpoint and job-log entry.
///
/// A value type. The source for a partition is the user's (or an adapter's planner) to build
/// from `bounds`: a keyset source with `WHERE id BETWEEN first AND last`, a filter on a month.
struct partition {
  std::uint32_t index = 0;  ///< 0, 1, … in plan order; stamped on its batches and dead letters
  std::string name;         ///< "0-249999", "h3of8", "Lisbon", "2024-05"
  std::variant<id_range, hash_bucket, category, time_interval> bounds;
  friend auto operator==(const partition&, const partition&) -> bool = default;
};

/// [min, max] split into `count` ranges as equal as they can be (fewer when the range has
/// fewer keys). Throws std::invalid_argument when count is 0 or max < min.
[[nodiscard]] auto plan_id_ranges(std::int64_t min, std::int64_t max, std::uint32_t count) -> std::vector<partition>;

/// `buckets` partitions by a stable hash of the key. Throws std::invalid_argument for 0.
[[nodiscard]] auto plan_hash_buckets(std::uint32_t buckets) -> std::vector<partition>;

/// The bucket of `key` among `buckets`: FNV-1a 64, the same on every machine and run.
[[nodiscard]] auto hash_bucket_of(std::string_view key, std::uint32_t buckets) -> std::uint32_t;

/// One partition per category, in the order given. Throws std::invalid_argument on an empty
/// list or a duplicate.
[[nodiscard]] auto plan_categories(std::vector<std::string> values) -> std::vector<partition>;

enum class interval_unit : std::uint8_t { day, week, month };

/// Calendar intervals covering [from, to): days, ISO weeks (Monday first) or months; the first
/// and last are cut at `from` and `to`. Names are "2024-05-17", "2024-W20", "2024-05".
/// Throws std::invalid_argument when to <= from.
[[nodiscard]] auto plan_time_intervals(std::chrono::sys_days from, std::chrono::sys_days to, interval_unit unit)
    -> std::vector<partition>;

}  // namespace pipeline
