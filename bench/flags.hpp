#pragma once

// The command line of the plain-main benchmarks (those that time whole runs, not Google
// Benchmark cases): "--flag value" pairs, comma lists, and the servers' URIs from the
// environment scripts/services.sh sets.

#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace bench {

using flag_setters = std::map<std::string_view, std::function<void(const std::string&)>>;

// Calls the setter of each "--flag value" pair; an unknown flag throws std::invalid_argument.
inline void parse_flags(int argc, char** argv, const flag_setters& setters) {
  for (int i = 1; i < argc; i += 2) {
    const auto setter = setters.find(argv[i]);
    if (setter == setters.end() || i + 1 == argc) {
      throw std::invalid_argument(fmt::format("unknown option or missing value: {}", argv[i]));
    }
    setter->second(argv[i + 1]);
  }
}

// "a,b,c" as {"a", "b", "c"}.
inline auto comma_list(const std::string& value) -> std::vector<std::string> {
  std::vector<std::string> items;
  for (std::size_t at = 0; at <= value.size();) {
    const auto comma = std::min(value.find(',', at), value.size());
    items.push_back(value.substr(at, comma - at));
    at = comma + 1;
  }
  return items;
}

// The variable's value; throws when it is unset or empty (the bench was not run under
// scripts/services.sh).
inline auto required_env(const char* name) -> std::string {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(fmt::format("{} is not set: run under scripts/services.sh", name));
  }
  return v;
}

}  // namespace bench
