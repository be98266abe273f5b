#pragma once
// Shared by the examples that name their tables after a --prefix and report errors on stderr.
// Header-only; no state.

#include <pipeline/error.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace examples {

/// Whether `prefix` may start table names the example writes into its own SQL (CREATE, INSERT):
/// letters, digits and _, at most 40 characters, not starting with a digit.
inline auto valid_table_prefix(const std::string& prefix) -> bool {
  return !prefix.empty() && prefix.size() <= 40 && std::isdigit(static_cast<unsigned char>(prefix[0])) == 0 &&
         std::all_of(prefix.begin(), prefix.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

/// `valid_table_prefix`, saying on stderr what a prefix must be when it is not.
inline auto check_table_prefix(const std::string& prefix) -> bool {
  if (valid_table_prefix(prefix)) return true;
  std::fputs("--prefix: letters, digits and _ only, at most 40, not starting with a digit\n", stderr);
  return false;
}

/// Prints `e` on stderr and returns 1, the exit status for it.
inline auto print_error(const pipeline::error& e) -> int {
  std::fprintf(stderr, "%s\n", fmt::format("{}", e).c_str());
  return 1;
}

}  // namespace examples
