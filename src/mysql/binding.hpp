#pragma once

// Values bound as statement parameters (MYSQL_BIND), and the conversions between
// pipeline::timestamp and MYSQL_TIME. Values are never spliced into SQL text.

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <mysql.h>

#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mysql::detail {

/// `t` as a DATETIME(6) in UTC, or nullopt outside the years 0000-9999 MySQL holds.
[[nodiscard]] auto to_mysql_time(timestamp t) -> std::optional<MYSQL_TIME>;

/// A DATE, DATETIME or TIMESTAMP read from the server (UTC on our sessions); nullopt for a
/// zero or partial date ('0000-00-00'), which is no point in time.
[[nodiscard]] auto from_mysql_time(const MYSQL_TIME& t) -> std::optional<timestamp>;

/// "YYYY-MM-DD[ HH:MM:SS[.ffffff]]" as the text protocol sends it.
[[nodiscard]] auto parse_mysql_time(std::string_view text) -> std::optional<timestamp>;

/// The MYSQL_BINDs of a list of values, pointing into `values` (which must outlive them)
/// and into storage of their own for what needs converting. Not copyable (self-pointing).
class parameters {
 public:
  /// An `invalid_input` error names the parameter whose value MySQL cannot hold.
  [[nodiscard]] static auto bind(std::span<const value> values) -> result<std::unique_ptr<parameters>>;
  [[nodiscard]] auto data() noexcept -> MYSQL_BIND* { return binds_.empty() ? nullptr : binds_.data(); }

 private:
  parameters() = default;
  std::vector<MYSQL_BIND> binds_;
  std::vector<std::int64_t> ints_;
  std::vector<MYSQL_TIME> times_;
  std::vector<unsigned long> lengths_;
};

}  // namespace pipeline::mysql::detail
