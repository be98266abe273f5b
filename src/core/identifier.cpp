#include <pipeline/detail/identifier.hpp>

#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/record.hpp>

namespace pipeline::detail {

void require_identifier(std::string_view name, std::string_view what) {
  if (is_identifier(name)) return;
  // Formatted as a record value: quoted, with control characters and NUL escaped.
  throw std::invalid_argument(
      fmt::format("{}: {} is not an identifier ([A-Za-z_][A-Za-z0-9_]{{0,63}})", what, value{name}));
}

}  // namespace pipeline::detail
