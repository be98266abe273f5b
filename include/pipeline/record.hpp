#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/core.h>  // the formatters below are defined in the library

#include <pipeline/result.hpp>

namespace pipeline {

/// Binary data held by a `value` (a BLOB column, a BSON binary).
using bytes = std::vector<std::byte>;
/// A point in time held by a `value`: microseconds since 1970-01-01T00:00:00Z, no time zone
/// (the precision of MySQL DATETIME(6); MongoDB dates are milliseconds).
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// Which alternative a `value` holds; `to_string` names it in error messages. `binary` holds
/// `bytes` and `datetime` a `timestamp` (enumerators named apart from the types they hold).
enum class value_kind : std::uint8_t { null, boolean, int64, float64, string, binary, datetime };

/// "null", "boolean", "int64", "float64", "string", "binary" or "datetime".
[[nodiscard]] auto to_string(value_kind kind) noexcept -> std::string_view;

namespace detail {
template <class T>
concept character = std::same_as<T, char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
                    std::same_as<T, char16_t> || std::same_as<T, char32_t>;

/// Integers a `value` takes implicitly: those that always fit in int64 (not `uint64_t`,
/// whose upper half does not; cast it) and not characters or bool, which would surprise.
template <class T>
concept int64_compatible = std::integral<T> && !std::same_as<T, bool> && !character<T> &&
                           (std::signed_integral<T> || sizeof(T) < sizeof(std::int64_t));

template <class T>
concept value_alternative = std::same_as<T, bool> || std::same_as<T, std::int64_t> || std::same_as<T, double> ||
                            std::same_as<T, std::string> || std::same_as<T, bytes> || std::same_as<T, timestamp>;

template <value_alternative T>
inline constexpr value_kind kind_of = std::same_as<T, bool>           ? value_kind::boolean
                                      : std::same_as<T, std::int64_t> ? value_kind::int64
                                      : std::same_as<T, double>       ? value_kind::float64
                                      : std::same_as<T, std::string>  ? value_kind::string
                                      : std::same_as<T, bytes>        ? value_kind::binary
                                                                      : value_kind::datetime;
}  // namespace detail

/// Thrown by `value::get<T>()` when the value holds another alternative.
class bad_value_access : public std::logic_error {
 public:
  bad_value_access(value_kind expected, value_kind actual);
};

/// One field of a dynamic record: null, bool, int64, double, string, bytes or timestamp.
///
/// A value type; not synchronised. Equality needs the same kind and the same value: int64 1
/// differs from double 1.0; doubles compare with `==` except that NaN equals NaN, so that
/// equality stays reflexive and a decoded record equals the one encoded. Formats (fmt) for
/// people: strings quoted and escaped, bytes as `0x` + hex, timestamps as ISO-8601 UTC.
///
///     pipeline::value v = 42;                     // int64
///     if (const auto* n = v.get_if<std::int64_t>()) use(*n);
///     fmt::print("{}", pipeline::value{"a\"b"});  // "a\"b"
class value {
 public:
  value() noexcept = default;  ///< null
  value(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): values convert implicitly
  template <std::same_as<bool> B>  // a template, so that pointers do not silently become bool
  value(B b) noexcept : data_(b) {}  // NOLINT(google-explicit-constructor)
  template <detail::int64_compatible I>
  value(I i) noexcept : data_(static_cast<std::int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  // A template too, so that a uint64_t or a char is not silently turned into a double.
  template <std::floating_point F>
    requires(sizeof(F) <= sizeof(double))
  value(F f) noexcept : data_(static_cast<double>(f)) {}  // NOLINT(google-explicit-constructor)
  value(std::string s) noexcept : data_(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  value(std::string_view s) : data_(std::string(s)) {}           // NOLINT(google-explicit-constructor)
  value(const char* s) : data_(std::string(s)) {}                // NOLINT(google-explicit-constructor)
  value(pipeline::bytes b) noexcept : data_(std::move(b)) {}     // NOLINT(google-explicit-constructor)
  value(timestamp t) noexcept : data_(t) {}                      // NOLINT(google-explicit-constructor)

  [[nodiscard]] auto kind() const noexcept -> value_kind { return static_cast<value_kind>(data_.index()); }
  [[nodiscard]] auto is_null() const noexcept -> bool { return kind() == value_kind::null; }

  /// The held `T`, or nullptr when the value holds something else.
  template <detail::value_alternative T>
  [[nodiscard]] auto get_if() const noexcept -> const T* {
    return std::get_if<T>(&data_);
  }
  template <detail::value_alternative T>
  [[nodiscard]] auto get_if() noexcept -> T* {
    return std::get_if<T>(&data_);
  }

  /// The held `T`; throws `bad_value_access` naming both kinds when it holds something else.
  template <detail::value_alternative T>
  [[nodiscard]] auto get() const -> const T& {
    if (const auto* held = get_if<T>()) return *held;
    throw bad_value_access(detail::kind_of<T>, kind());
  }

  friend auto operator==(const value& a, const value& b) noexcept -> bool;

 private:
  // The order of the alternatives is the order of value_kind.
  std::variant<std::monostate, bool, std::int64_t, double, std::string, pipeline::bytes, timestamp> data_;
};

/// Named values in insertion order: a row from MySQL, a document from MongoDB, a parsed line.
///
/// A value type; not synchronised. Names are unique: `set` replaces the value of an existing
/// field in place. Lookups scan the fields (records are narrow; no index is kept). Equality
/// compares names and values in order, since the order is part of the record (it is the
/// column order of an INSERT and what the codec keeps). Nested documents travel as JSON
/// text in a string field.
///
///     pipeline::record r{{"id", 7}, {"email", "a@example.com"}};
///     r.set("verified", true);
///     if (const auto* email = r.find("email")) fmt::print("{}\n", *email);
class record {
 public:
  using entry = std::pair<std::string, value>;
  using const_iterator = std::vector<entry>::const_iterator;

  record() = default;
  /// Throws std::invalid_argument naming the field when a name appears twice.
  record(std::initializer_list<entry> fields);
  /// For data from outside (a decoder, a driver): a duplicate name is an invalid_input error.
  [[nodiscard]] static auto from_fields(std::vector<entry> fields) -> result<record>;

  /// Sets `name` to `v`, replacing its value if present (keeping its place), else appending.
  auto set(std::string_view name, value v) -> value&;

  [[nodiscard]] auto find(std::string_view name) const noexcept -> const value*;
  [[nodiscard]] auto find(std::string_view name) noexcept -> value*;
  [[nodiscard]] auto contains(std::string_view name) const noexcept -> bool { return find(name) != nullptr; }

  [[nodiscard]] auto size() const noexcept -> std::size_t { return fields_.size(); }
  [[nodiscard]] auto empty() const noexcept -> bool { return fields_.empty(); }
  void reserve(std::size_t n);
  [[nodiscard]] auto begin() const noexcept -> const_iterator { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept -> const_iterator { return fields_.end(); }

  friend auto operator==(const record&, const record&) -> bool = default;

 private:
  std::vector<entry> fields_;
};

namespace detail {
[[nodiscard]] auto to_text(const value& v) -> std::string;
[[nodiscard]] auto to_text(const record& r) -> std::string;
}  // namespace detail

}  // namespace pipeline

/// Formats for people: `null`, `true`, `42`, `1.5`, `"quoted \"text\""`, `0x00ff`,
/// `2024-03-01T12:00:00.000250Z`. Width and alignment apply to the whole text.
template <>
struct fmt::formatter<pipeline::value> : fmt::formatter<std::string_view> {
  auto format(const pipeline::value& v, format_context& ctx) const -> format_context::iterator;
};

/// Formats as `{id: 7, email: "a@example.com"}`.
template <>
struct fmt::formatter<pipeline::record> : fmt::formatter<std::string_view> {
  auto format(const pipeline::record& r, format_context& ctx) const -> format_context::iterator;
};

template <>
struct fmt::formatter<pipeline::value_kind> : fmt::formatter<std::string_view> {
  auto format(pipeline::value_kind k, format_context& ctx) const -> format_context::iterator;
};
