#pragma once

// Binary data and times as text, for JSON: base64 (RFC 4648, standard alphabet, padded) and
// ISO-8601 UTC with microseconds.

#include <optional>
#include <string>
#include <string_view>

#include <pipeline/record.hpp>

namespace pipeline::file::detail {

[[nodiscard]] auto base64_encode(std::string_view bytes) -> std::string;
/// nullopt unless `text` is canonical padded base64 (so each byte string has one encoding).
[[nodiscard]] auto base64_decode(std::string_view text) -> std::optional<std::string>;

/// "2024-03-01T12:00:00.000250Z": always six fraction digits.
[[nodiscard]] auto format_time(timestamp t) -> std::string;
/// Reads "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (years 0000-9999, 1 to 6 fraction digits).
[[nodiscard]] auto parse_time(std::string_view text) -> std::optional<timestamp>;

}  // namespace pipeline::file::detail
