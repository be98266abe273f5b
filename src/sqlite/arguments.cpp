#include "arguments.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>

namespace pipeline::sqlite::detail {

void require_database(const std::shared_ptr<database>& db, std::string_view what) {
  if (db == nullptr) throw std::invalid_argument(fmt::format("{}: db is null", what));
}

auto quoted_identifier(std::string_view name, std::string_view what) -> std::string {
  pipeline::detail::require_identifier(name, what);
  return fmt::format("\"{}\"", name);
}

}  // namespace pipeline::sqlite::detail
