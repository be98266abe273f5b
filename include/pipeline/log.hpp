#pragma once

#include <cstdint>
#include <functional>
#include <iterator>
#include <string_view>
#include <utility>

#include <fmt/core.h>  // the formatter below is defined in the library

namespace pipeline {

/// How much a log message matters; a `logger` drops those below its minimum.
enum class log_level : std::uint8_t { debug, info, warn, error };

/// "debug", "info", "warn" or "error".
[[nodiscard]] auto to_string(log_level level) noexcept -> std::string_view;

/// Where the library's log messages go: installed by the host, so that no logging framework
/// is forced on it. It may be called from several threads at once and must be thread-safe;
/// it must not throw, and must not call back into the pipeline. `message` is valid only
/// during the call.
using log_callback = std::function<void(log_level level, std::string_view message)>;

/// A log callback and a minimum level: the library's handle for writing log messages.
///
/// A small value; copy it into each component. `log` is as thread-safe as the callback (it
/// touches nothing else) and formats nothing, so costs one comparison, when the level is
/// below the minimum or there is no callback. Messages up to a few hundred bytes are
/// formatted on the stack. A default-constructed logger drops everything.
///
///     pipeline::logger log{pipeline::stderr_log_callback(), pipeline::log_level::info};
///     log.info("read {} records from {}", n, table);
class logger {
 public:
  logger() = default;
  explicit logger(log_callback callback, log_level min_level = log_level::info)
      : callback_(std::move(callback)), min_level_(min_level) {}

  [[nodiscard]] auto enabled(log_level level) const noexcept -> bool {
    return level >= min_level_ && static_cast<bool>(callback_);
  }
  [[nodiscard]] auto min_level() const noexcept -> log_level { return min_level_; }

  template <class... Args>
  void log(log_level level, fmt::format_string<Args...> format, Args&&... args) const {
    if (!enabled(level)) return;
    callback_(level, fmt::vformat(format, fmt::make_format_args(args...)));
  }

  template <class... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    log(log_level::debug, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) const {
    log(log_level::info, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) const {
    log(log_level::warn, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) const {
    log(log_level::error, format, std::forward<Args>(args)...);
  }

 private:
  log_callback callback_;
  log_level min_level_ = log_level::info;
};

/// A callback writing `pipeline <level>: <message>` lines to stderr, one write per line so
/// that lines from several threads do not mix.
[[nodiscard]] auto stderr_log_callback() -> log_callback;

}  // namespace pipeline

template <>
struct fmt::formatter<pipeline::log_level> : fmt::formatter<std::string_view> {
  auto format(pipeline::log_level level, format_context& ctx) const -> format_context::iterator;
};
