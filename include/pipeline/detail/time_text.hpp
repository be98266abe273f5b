#pragma once

// Times as fixed-width ISO-8601 UTC text, "2024-03-01T12:00:00.000250Z", as the adapters store
// them (file JSON, sqlite TEXT columns). Fixed width, so the text sorts as the times compare.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <pipeline/record.hpp>

namespace pipeline::detail {

/// `t` as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always six fraction digits), or nullopt when its year
/// is outside 0000-9999: a `timestamp` reaches ±292,000 years, fixed-width text does not.
[[nodiscard]] auto format_iso_time(timestamp t) -> std::optional<std::string>;

/// A clock time floored to the microsecond, as `format_iso_time` writes it; every
/// `system_clock` time (years 1677-2262) fits.
[[nodiscard]] auto format_iso_time(std::chrono::system_clock::time_point t) -> std::string;

/// Reads "YYYY-MM-DDTHH:MM:SS[.f]Z" with 1 to 6 fraction digits (so everything
/// `format_iso_time` writes); nullopt for anything else, impossible dates and times included.
[[nodiscard]] auto parse_iso_time(std::string_view text) -> std::optional<timestamp>;

}  // namespace pipeline::detail
