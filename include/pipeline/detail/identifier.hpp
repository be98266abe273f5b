#pragma once

// The check every SQL adapter makes of a table or column name before building SQL from it:
// one rule, so that a name sqlite accepts is a name MySQL accepts, and the quoting (double
// quotes, backticks) is the adapter's only difference.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline::detail {

/// The longest identifier accepted: MySQL's limit for table and column names.
inline constexpr std::size_t max_identifier_size = 64;

/// Whether `name` matches [A-Za-z_][A-Za-z0-9_]{0,63}.
[[nodiscard]] constexpr auto is_identifier(std::string_view name) noexcept -> bool {
  const auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (name.empty() || name.size() > max_identifier_size || !letter(name.front())) return false;
  for (char c : name) {
    if (!letter(c) && !digit(c)) return false;
  }
  return true;
}

/// Throws std::invalid_argument "<what>: <name, quoted and escaped> is not an identifier
/// ([A-Za-z_][A-Za-z0-9_]{0,63})" unless `is_identifier(name)`. Called before any SQL is
/// built from a name, so a hostile one (`users; DROP TABLE x`, a quote, a NUL) never reaches
/// a server.
void require_identifier(std::string_view name, std::string_view what);

/// Checks a list of column names given as one option (`what`, e.g. "sqlite::table_sink::open:
/// options.update_columns"): each an identifier, none twice, and, when `allowed` is given, each
/// one of `allowed`. Throws std::invalid_argument naming `what` and the name.
void require_column_names(const std::vector<std::string>& names, std::string_view what,
                          const std::vector<std::string>* allowed);

/// Throws std::invalid_argument "<who>: "<name>" is in both options.<a_option> and
/// options.<b_option>" for the first name of `a` that is also in `b`.
void require_apart(const std::vector<std::string>& a, std::string_view a_option, const std::vector<std::string>& b,
                   std::string_view b_option, std::string_view who);

}  // namespace pipeline::detail
