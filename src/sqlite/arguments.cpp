#include "arguments.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/record.hpp>

namespace pipeline::sqlite::detail {
namespace {

constexpr std::size_t max_identifier_size = 64;

constexpr auto is_letter_or_underscore(char c) noexcept -> bool {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

constexpr auto is_digit(char c) noexcept -> bool { return c >= '0' && c <= '9'; }

constexpr auto is_identifier(std::string_view name) noexcept -> bool {
  if (name.empty() || name.size() > max_identifier_size || !is_letter_or_underscore(name.front())) return false;
  for (char c : name) {
    if (!is_letter_or_underscore(c) && !is_digit(c)) return false;
  }
  return true;
}

}  // namespace

void require_database(const std::shared_ptr<database>& db, std::string_view what) {
  if (db == nullptr) throw std::invalid_argument(fmt::format("{}: db is null", what));
}

auto quoted_identifier(std::string_view name, std::string_view what) -> std::string {
  if (!is_identifier(name)) {
    // Formatted as a record value: quoted, with control characters and NUL escaped.
    throw std::invalid_argument(fmt::format("{}: {} is not an identifier ([A-Za-z_][A-Za-z0-9_]{{0,63}})", what,
                                            value{name}));
  }
  return fmt::format("\"{}\"", name);
}

}  // namespace pipeline::sqlite::detail
