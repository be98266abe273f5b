#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/core.h>

#include <pipeline/record.hpp>
#include <pipeline/record_mapping.hpp>

namespace pipeline {

/// Customisation point: how a `T` is written into a dead letter's payload.
///
/// Specialise it when the default is not what people should read in the DLQ:
///
///     template <> struct pipeline::payload_traits<order> {
///       static auto encode(const order& o) -> std::string { return o.to_json(); }
///     };
template <class T>
struct payload_traits {};

/// A type the runner can dead-letter: with a `payload_traits` specialisation, convertible to
/// a string, a `record`, a mapped struct, or anything `fmt` can format.
template <class T>
concept payload_encodable = requires(const T& v) {
  { payload_traits<T>::encode(v) } -> std::convertible_to<std::string>;
} || std::convertible_to<const T&, std::string_view> || mapped_record<T> || fmt::is_formattable<T>::value;

/// The bytes a dead letter keeps for `value`, chosen in the order `payload_encodable` lists.
template <payload_encodable T>
[[nodiscard]] auto to_payload(const T& value) -> std::string {
  if constexpr (requires { payload_traits<T>::encode(value); }) {
    return std::string(payload_traits<T>::encode(value));
  } else if constexpr (std::convertible_to<const T&, std::string_view>) {
    return std::string(std::string_view(value));
  } else if constexpr (mapped_record<T>) {
    return fmt::format("{}", to_record(value));
  } else {
    return fmt::format("{}", value);
  }
}

}  // namespace pipeline
