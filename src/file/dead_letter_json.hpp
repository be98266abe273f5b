#pragma once

// Dead letters as JSON objects, one a line: written by dead_letter_file, read back by
// dead_letter_file_source.
//
//   {"payload":"<base64>","kind":"permanent","message":"…","native_code":1366,"backend":"mysql",
//    "attempts":3,"position":"<base64>","partition":0,"time":"2026-09-21T13:46:40.000123Z",
//    "job":"listings"}   (job may be missing: files from before letters had one)

#include <string>
#include <string_view>

#include <pipeline/dead_letter.hpp>
#include <pipeline/result.hpp>

#include "record_reader.hpp"

namespace pipeline::file::detail {

/// Appends `letter` as one JSON line. Payload and position are base64 (they may be binary);
/// bytes of the message or backend that are not UTF-8 become U+FFFD; time is kept to the
/// microsecond.
void append_dead_letter_json(const dead_letter& letter, std::string& out);

/// One line written by append_dead_letter_json back; anything else is an invalid_input error
/// naming the member that is missing or wrong.
[[nodiscard]] auto parse_dead_letter_json(std::string_view text) -> result<dead_letter>;

/// The dead-letter file format for batch_reader.
struct dead_letter_format {
  using value_type = dead_letter;
  [[nodiscard]] auto make_framer() const noexcept -> line_framer { return {}; }
  [[nodiscard]] auto parse(std::string_view text) const -> result<dead_letter> {
    return parse_dead_letter_json(text);
  }
};

}  // namespace pipeline::file::detail
