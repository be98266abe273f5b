#include <algorithm>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>

#include "relational/stores.hpp"

namespace pipeline::detail::relational {

auto checked_table(bool has_db, const dialect& d, std::string_view type, std::string_view table) -> std::string {
  const auto who = fmt::format("{}::{}::open", d.name(), type);
  if (!has_db) throw std::invalid_argument(fmt::format("{}: db is null", who));
  require_identifier(table, fmt::format("{}: options.table", who));
  return d.quote(table);
}

auto limit_parameter(std::size_t n) noexcept -> std::int64_t {
  return static_cast<std::int64_t>(std::min(n, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

auto quoted_list(const dialect& d, std::span<const std::string_view> names) -> std::string {
  std::string out;
  for (auto name : names) {
    if (!out.empty()) out += ", ";
    out += d.quote(name);
  }
  return out;
}

auto placeholders(const dialect& d, std::size_t first, std::size_t count) -> std::string {
  std::string out;
  for (std::size_t n = first; n < first + count; ++n) {
    if (!out.empty()) out += ", ";
    out += d.placeholder(n);
  }
  return out;
}

}  // namespace pipeline::detail::relational
