#pragma once

#include <cstdint>

namespace pipeline::file {

/// What a source does with a number that has no exact value of its type: an integer outside
/// int64, or a number whose double would be infinite, zero from non-zero digits, or subnormal
/// without the digits written (`1e400`, `1e-400`, `1.2345678901234567e-320`).
///
/// `reject`: the record is an `invalid_input` dead letter naming the field. `keep_as_text`: the
/// field holds the number's text as written, a `std::string`. A plain value.
enum class out_of_range : std::uint8_t { reject, keep_as_text };

}  // namespace pipeline::file
