#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <pipeline/error.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

// Conversions between struct members and record values, for record_mapping.hpp.
namespace pipeline::detail {

template <class T>
concept mappable_integer = std::integral<T> && !std::same_as<T, bool> && !character<T>;

template <class T>
concept mappable_scalar = std::same_as<T, bool> || mappable_integer<T> || std::same_as<T, float> ||
                          std::same_as<T, double> || std::same_as<T, std::string> || std::same_as<T, bytes> ||
                          std::same_as<T, timestamp>;

template <class T>
inline constexpr bool is_optional = false;
template <class U>
inline constexpr bool is_optional<std::optional<U>> = true;

template <class T>
concept mappable_member = mappable_scalar<T> || (is_optional<T> && mappable_scalar<typename T::value_type>);

/// The kind a member of type T is stored as.
template <mappable_scalar T>
consteval auto stored_kind() -> value_kind {
  if constexpr (mappable_integer<T>) {
    return value_kind::int64;
  } else if constexpr (std::floating_point<T>) {
    return value_kind::float64;
  } else {
    return kind_of<T>;
  }
}

// Error builders, out of line (src/core/record_mapping.cpp) so each message is written once.
[[nodiscard]] auto missing_field_error(std::string_view field, value_kind expected) -> error;
[[nodiscard]] auto wrong_kind_error(std::string_view field, value_kind expected, value_kind actual) -> error;
[[nodiscard]] auto integer_out_of_range_error(std::string_view field, std::int64_t v, bool is_signed, std::size_t bits)
    -> error;
// Rounding to float is accepted; leaving its range is not (NaN and infinities pass).
[[nodiscard]] auto narrow_to_float(std::string_view field, double v) -> result<float>;
[[noreturn]] void throw_uint64_out_of_range(std::string_view field, std::uint64_t v);

template <mappable_member M>
auto to_value(const M& member, std::string_view field) -> value {
  if constexpr (is_optional<M>) {
    return member ? to_value(*member, field) : value{};
  } else if constexpr (mappable_integer<M>) {
    if constexpr (std::unsigned_integral<M> && sizeof(M) >= sizeof(std::int64_t)) {
      if (!std::in_range<std::int64_t>(member)) throw_uint64_out_of_range(field, member);
    }
    return value{static_cast<std::int64_t>(member)};
  } else if constexpr (std::same_as<M, float>) {
    return value{static_cast<double>(member)};
  } else {
    return value{member};
  }
}

/// Reads a member from `v` (nullptr when the record has no such field).
template <mappable_member M>
auto from_value(const value* v, std::string_view field) -> result<M> {
  if constexpr (is_optional<M>) {
    // An absent field and a null both mean "no value": documents omit what they lack.
    if (v == nullptr || v->is_null()) return M{};
    auto inner = from_value<typename M::value_type>(v, field);
    if (!inner) return std::move(inner).error();
    return M{std::move(*inner)};
  } else {
    constexpr value_kind expected = stored_kind<M>();
    if (v == nullptr) return missing_field_error(field, expected);
    if (v->kind() != expected) return wrong_kind_error(field, expected, v->kind());
    if constexpr (mappable_integer<M>) {
      const std::int64_t i = *v->get_if<std::int64_t>();
      if (!std::in_range<M>(i)) return integer_out_of_range_error(field, i, std::is_signed_v<M>, sizeof(M) * 8);
      return static_cast<M>(i);
    } else if constexpr (std::same_as<M, float>) {
      return narrow_to_float(field, *v->get_if<double>());
    } else {
      return *v->get_if<M>();
    }
  }
}

}  // namespace pipeline::detail
