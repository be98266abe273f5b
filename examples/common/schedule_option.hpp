#pragma once
// Shared by the examples that run on a schedule (03's --every, 07's --schedule): reads the
// option's text as a schedule, or says on stderr why it is not one. Header-only.

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <pipeline/schedule.hpp>

namespace examples {

/// The schedule `text` spells, or nullopt (after printing "<option>: <why>") when it spells none.
inline auto parse_schedule_option(std::string_view option, const std::string& text) -> std::optional<pipeline::schedule> {
  try {
    return pipeline::schedule::parse(text);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(option.size()), option.data(), e.what());
    return std::nullopt;
  }
}

}  // namespace examples
