#pragma once

#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include <pipeline/error.hpp>

namespace pipeline {

/// A value or the `error` that prevented it: the return type of every expected failure.
///
/// A small `std::expected<T, error>` (GCC 12 in C++20 mode has none). Not thread-safe, like
/// any value. `value()` throws `bad_result_access` when there is an error; `*r` does not check.
///
///     auto load(std::string_view key) -> pipeline::result<checkpoint>;
///     if (auto cp = store.load("orders"); !cp) log(cp.error()); else use(cp->pos);
template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T>, "result<T&> is not supported; use a pointer");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, pipeline::error>, "result<error> is ambiguous");

 public:
  using value_type = T;

  result()
    requires std::default_initializable<T>
      : state_(std::in_place_index<0>) {}

  template <class U = T>
    requires std::constructible_from<T, U&&> && (!std::same_as<std::remove_cvref_t<U>, pipeline::error>) &&
             (!std::same_as<std::remove_cvref_t<U>, result>)
  result(U&& value)  // NOLINT(google-explicit-constructor): implicit, as std::expected
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}

  result(pipeline::error e)  // NOLINT(google-explicit-constructor)
      : state_(std::in_place_index<1>, std::move(e)) {}

  [[nodiscard]] auto has_value() const noexcept -> bool { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  [[nodiscard]] auto value() & -> T& { return check(), std::get<0>(state_); }
  [[nodiscard]] auto value() const& -> const T& { return check(), std::get<0>(state_); }
  [[nodiscard]] auto value() && -> T&& { return check(), std::get<0>(std::move(state_)); }

  template <class U>
  [[nodiscard]] auto value_or(U&& fallback) const& -> T {
    return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// The error; only meaningful when `!has_value()`.
  [[nodiscard]] auto error() const& -> const pipeline::error& { return *std::get_if<1>(&state_); }
  [[nodiscard]] auto error() && -> pipeline::error&& { return std::move(*std::get_if<1>(&state_)); }

  [[nodiscard]] auto operator*() & noexcept -> T& { return *std::get_if<0>(&state_); }
  [[nodiscard]] auto operator*() const& noexcept -> const T& { return *std::get_if<0>(&state_); }
  [[nodiscard]] auto operator*() && noexcept -> T&& { return std::move(*std::get_if<0>(&state_)); }
  [[nodiscard]] auto operator->() noexcept -> T* { return std::get_if<0>(&state_); }
  [[nodiscard]] auto operator->() const noexcept -> const T* { return std::get_if<0>(&state_); }

 private:
  void check() const {
    if (!has_value()) throw bad_result_access(*std::get_if<1>(&state_));
  }

  std::variant<T, pipeline::error> state_;
};

/// Success with nothing to return, or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;

  result() = default;
  result(pipeline::error e) : error_(std::move(e)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] auto has_value() const noexcept -> bool { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (error_) throw bad_result_access(*error_);
  }
  [[nodiscard]] auto error() const& -> const pipeline::error& { return *error_; }
  [[nodiscard]] auto error() && -> pipeline::error&& { return std::move(*error_); }

 private:
  std::optional<pipeline::error> error_;
};

/// Success for `result<void>`: `return pipeline::ok();`
[[nodiscard]] inline auto ok() -> result<void> { return {}; }

}  // namespace pipeline
