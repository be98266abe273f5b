#pragma once

// Records as JSON objects, one a line: read by jsonl_source (json_reader.cpp), written by
// jsonl_sink (json_record.cpp).

#include <cstddef>
#include <string>
#include <string_view>

#include <pipeline/file/out_of_range.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

#include "record_reader.hpp"

namespace pipeline::file::detail {

/// What a line may hold before it is refused, and what an inexact number becomes.
struct json_read_limits {
  std::size_t max_members = 65'536;  ///< members of any one object, at any depth
  std::size_t max_depth = 128;       ///< nesting levels; the line's object is level 1
  out_of_range numbers = out_of_range::reject;
};

/// One JSON object (RFC 8259) as a record, its members in order: null, bool, integer (int64),
/// number (double) and string map to those values; a nested object or array becomes its JSON
/// text as written, without the whitespace outside strings. Not JSON, not an object, a member
/// name twice, a limit passed, or (with out_of_range::reject) a number without an exact value
/// is an invalid_input error saying which. Time and memory are linear in the text.
[[nodiscard]] auto parse_json_record(std::string_view text, const json_read_limits& limits) -> result<record>;

/// Appends `r` as one JSON object and a '\n'. Bytes become base64 strings, timestamps ISO-8601
/// UTC strings. A NaN or infinite double, or a name or string that is not UTF-8, is an
/// invalid_input error naming the field (and `out` is then partly written: callers encode
/// into a scratch string).
[[nodiscard]] auto append_json_record(const record& r, std::string& out) -> result<void>;

/// The JSONL format for batch_reader.
struct jsonl_format {
  using value_type = record;
  json_read_limits limits;

  [[nodiscard]] auto make_framer() const noexcept -> line_framer { return {}; }
  [[nodiscard]] auto parse(std::string_view text) const -> result<record> { return parse_json_record(text, limits); }
};

}  // namespace pipeline::file::detail
