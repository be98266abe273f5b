#include <pipeline/detail/identifier.hpp>

#include <algorithm>
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

void require_column_names(const std::vector<std::string>& names, std::string_view what,
                          const std::vector<std::string>* allowed) {
  for (const auto& name : names) {
    require_identifier(name, what);
    if (allowed != nullptr && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
      throw std::invalid_argument(fmt::format("{}: \"{}\" is not in options.columns", what, name));
    }
    if (std::count(names.begin(), names.end(), name) > 1) {
      throw std::invalid_argument(fmt::format("{}: \"{}\" appears twice", what, name));
    }
  }
}

void require_apart(const std::vector<std::string>& a, std::string_view a_option, const std::vector<std::string>& b,
                   std::string_view b_option, std::string_view who) {
  for (const auto& name : a) {
    if (std::find(b.begin(), b.end(), name) != b.end()) {
      throw std::invalid_argument(
          fmt::format("{}: \"{}\" is in both options.{} and options.{}", who, name, a_option, b_option));
    }
  }
}

}  // namespace pipeline::detail
