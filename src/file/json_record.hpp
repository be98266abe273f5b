#pragma once

// Records as JSON objects, one a line: read by jsonl_source, written by jsonl_sink.

#include <string>
#include <string_view>

#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

#include "record_reader.hpp"

namespace pipeline::file::detail {

/// Objects and arrays nested deeper than this are refused rather than walked.
inline constexpr int max_json_depth = 128;

/// One JSON object as a record, its members in order: null, bool, integer (int64), number
/// (double) and string map to those values; a nested object or array becomes its compact JSON
/// text in a string. Not an object, a member name twice, an integer beyond int64 or nesting
/// deeper than max_json_depth is an invalid_input error saying which.
[[nodiscard]] auto parse_json_record(std::string_view text) -> result<record>;

/// Appends `r` as one JSON object and a '\n'. Bytes become base64 strings, timestamps ISO-8601
/// UTC strings. A NaN or infinite double, or a name or string that is not UTF-8, is an
/// invalid_input error naming the field (and `out` is then partly written: callers encode
/// into a scratch string).
[[nodiscard]] auto append_json_record(const record& r, std::string& out) -> result<void>;

/// The JSONL format for batch_reader.
struct jsonl_format {
  using value_type = record;
  [[nodiscard]] auto make_framer() const noexcept -> line_framer { return {}; }
  [[nodiscard]] auto parse(std::string_view text) const -> result<record> { return parse_json_record(text); }
};

}  // namespace pipeline::file::detail
