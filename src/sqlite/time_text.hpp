#pragma once

// How pipeline::sqlite stores times: ISO-8601 text in UTC with six fraction digits,
// "2024-03-01T12:00:00.000250Z". Fixed width, so it sorts as it compares, and sqlite's own
// date functions read it (datetime(), julianday(), strftime()).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <pipeline/record.hpp>

namespace pipeline::sqlite::detail {

/// `t` as "YYYY-MM-DDTHH:MM:SS.ffffffZ", or nullopt when its year is outside 0000-9999 (a
/// `timestamp` reaches ±292,000 years; fixed-width text does not).
[[nodiscard]] auto format_time(timestamp t) -> std::optional<std::string>;

/// A clock time floored to the microsecond, as `format_time` writes it; every
/// `system_clock` time (years 1677-2262) fits.
[[nodiscard]] auto format_clock_time(std::chrono::system_clock::time_point t) -> std::string;

/// Exactly the text `format_time` writes, back; nullopt for anything else.
[[nodiscard]] auto parse_time(std::string_view text) -> std::optional<timestamp>;

}  // namespace pipeline::sqlite::detail
