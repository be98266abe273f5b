#include <pipeline/detail/field_conversion.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace pipeline::detail {

auto missing_field_error(std::string_view field, value_kind expected) -> error {
  return invalid_input_error(fmt::format("field \"{}\" is missing (expected {})", field, expected));
}

auto wrong_kind_error(std::string_view field, value_kind expected, value_kind actual) -> error {
  return invalid_input_error(fmt::format("field \"{}\" is {}, expected {}", field, actual, expected));
}

auto integer_out_of_range_error(std::string_view field, std::int64_t v, bool is_signed, std::size_t bits) -> error {
  return invalid_input_error(
      fmt::format("field \"{}\": int64 value {} does not fit in {}int{}", field, v, is_signed ? "" : "u", bits));
}

auto narrow_to_float(std::string_view field, double v) -> result<float> {
  if (std::isfinite(v) && std::abs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
    return invalid_input_error(fmt::format("field \"{}\": float64 value {} does not fit in float32", field, v));
  }
  return static_cast<float>(v);
}

void throw_uint64_out_of_range(std::string_view field, std::uint64_t v) {
  throw std::out_of_range(fmt::format("field \"{}\": uint64 value {} does not fit in int64", field, v));
}

}  // namespace pipeline::detail
