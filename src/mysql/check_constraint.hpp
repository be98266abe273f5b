#pragma once

// The CHECK constraints of a table that the table sink's row check can judge without the
// server: conjunctions of comparisons of one column with a number, as
// information_schema.CHECK_CONSTRAINTS prints them (`age` >= 0, `b` between 1 and 5 and
// `b` <> 3, each part possibly in parentheses). Anything else (OR, NOT, functions, two
// columns) is not parsed, and its constraint is left to the server.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline::mysql::detail {

/// `column` compared with `limit`.
struct column_bound {
  enum class comparison { less, less_equal, greater, greater_equal, equal, not_equal };
  std::string column;
  comparison op = comparison::equal;
  long double limit = 0;

  /// Whether `v` satisfies the bound.
  [[nodiscard]] auto holds(long double v) const noexcept -> bool;
};

/// A constraint that holds when every bound does.
struct check_constraint {
  std::string name;  // as the server names it in error 4025
  std::vector<column_bound> bounds;
};

/// The clause as bounds, or nullopt when it is not a conjunction of comparisons of a column
/// with a number.
[[nodiscard]] auto parse_check_clause(std::string name, std::string_view clause) -> std::optional<check_constraint>;

}  // namespace pipeline::mysql::detail
