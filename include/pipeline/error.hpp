#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

// fmt's light header: the formatters below are defined in the library, where <fmt/format.h>
// is included, so that every file including pipeline does not pay for it.
#include <fmt/core.h>

namespace pipeline {

/// What kind of failure an error is; the only thing retry and the runner look at.
///
/// Adapters map their native codes (errno, mysql_errno, REDIS_ERR_IO, bson_error_t) onto it.
enum class error_kind : std::uint8_t {
  transient,      ///< may succeed if tried again: timeout, lost connection, deadlock, busy
  permanent,      ///< will fail the same way again: constraint violation, bad value for the store
  invalid_input,  ///< the record itself is malformed (parse error, missing field)
  conflict,       ///< a concurrent writer won: stale checkpoint version, fencing
  not_found,      ///< the thing asked for does not exist
  stopped,        ///< a stop was requested; not a failure and never retried
  internal,       ///< a bug, a broken invariant, or an exception thrown by user code
};

/// The name of a kind as written in logs, DLQ entries and metrics labels ("transient", …).
[[nodiscard]] auto to_string(error_kind kind) noexcept -> std::string_view;
/// The kind `to_string` names `name`, or nullopt: how stores read a stored kind back.
[[nodiscard]] auto parse_error_kind(std::string_view name) noexcept -> std::optional<error_kind>;

/// An expected failure: its kind, a message for people, and the backend's own code.
///
/// A value type; copy freely. `backend` names where `native_code` comes from ("mysql", "errno").
struct error {
  error_kind kind = error_kind::internal;
  std::string message;
  std::int64_t native_code = 0;
  std::string backend;

  /// Only transient errors are worth another attempt; `stopped` never is.
  [[nodiscard]] auto retryable() const noexcept -> bool { return kind == error_kind::transient; }

  friend auto operator==(const error&, const error&) -> bool = default;
};

/// Shorthands that read as what happened: `return pipeline::transient_error("timeout after 2s");`
[[nodiscard]] auto transient_error(std::string message) -> error;
[[nodiscard]] auto permanent_error(std::string message) -> error;
[[nodiscard]] auto invalid_input_error(std::string message) -> error;
[[nodiscard]] auto conflict_error(std::string message) -> error;
[[nodiscard]] auto not_found_error(std::string message) -> error;
[[nodiscard]] auto stopped_error() -> error;
[[nodiscard]] auto internal_error(std::string message) -> error;

/// Thrown by `result<T>::value()` when the result holds an error; carries that error.
class bad_result_access : public std::runtime_error {
 public:
  explicit bad_result_access(pipeline::error e);
  [[nodiscard]] auto error() const noexcept -> const pipeline::error& { return error_; }

 private:
  pipeline::error error_;
};

}  // namespace pipeline

/// Formats as `transient: message (mysql 1213)`.
template <>
struct fmt::formatter<pipeline::error> : fmt::formatter<std::string_view> {
  auto format(const pipeline::error& e, format_context& ctx) const -> format_context::iterator;
};

template <>
struct fmt::formatter<pipeline::error_kind> : fmt::formatter<std::string_view> {
  auto format(pipeline::error_kind k, format_context& ctx) const -> format_context::iterator;
};
