#include <pipeline/log.hpp>

#include <cstdio>

#include <fmt/format.h>

namespace pipeline {

auto to_string(log_level level) noexcept -> std::string_view {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "unknown";
}

auto stderr_log_callback() -> log_callback {
  return [](log_level level, std::string_view message) {
    // One buffer and one fwrite: stdio locks the stream per call, so lines stay whole.
    fmt::memory_buffer line;
    fmt::format_to(std::back_inserter(line), "pipeline {}: {}\n", level, message);
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

}  // namespace pipeline

auto fmt::formatter<pipeline::log_level>::format(pipeline::log_level level, format_context& ctx) const
    -> format_context::iterator {
  return fmt::formatter<std::string_view>::format(pipeline::to_string(level), ctx);
}
