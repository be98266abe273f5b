#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <pipeline/detail/field_conversion.hpp>
#include <pipeline/error.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// How a user struct maps to a `record`: specialise it with a `static constexpr` tuple of
/// `field(...)`s, one per member, in the order the record's fields should have.
///
/// Member types: bool, integers (not characters), float, double, std::string, `bytes`,
/// `timestamp`, and std::optional of those. Integers are stored as int64, floats as double.
/// Names must be unique (checked at compile time). Fields of the record not named here are
/// ignored when reading.
///
///     struct user { std::int64_t id; std::string email; std::optional<std::string> name; };
///     template <> struct pipeline::record_mapping<user> {
///       static constexpr auto fields = std::make_tuple(pipeline::field("id", &user::id),
///                                                      pipeline::field("email", &user::email),
///                                                      pipeline::field("name", &user::name));
///     };
template <class T>
struct record_mapping;

/// One mapped member: the field's name and a pointer to the member. Made by `field`.
template <class Class, class Member>
struct field_mapping {
  std::string_view name;
  Member Class::*member;
};

/// Names a member for `record_mapping`: `pipeline::field("email", &user::email)`.
template <class Class, class Member>
[[nodiscard]] constexpr auto field(std::string_view name, Member Class::*member) noexcept
    -> field_mapping<Class, Member> {
  static_assert(detail::mappable_member<Member>,
                "pipeline::field: the member must be bool, an integer, float, double, std::string, "
                "pipeline::bytes, pipeline::timestamp, or std::optional of one of them");
  return {name, member};
}

namespace detail {
template <class T, class Fields>
inline constexpr bool fields_of = false;
template <class T, class... Classes, class... Members>
inline constexpr bool fields_of<T, std::tuple<field_mapping<Classes, Members>...>> =
    (std::derived_from<T, Classes> && ...);

template <class Fields>
consteval auto names_unique(const Fields& fields) -> bool {
  return std::apply(
      [](const auto&... f) {
        const std::string_view names[] = {f.name..., {}};  // the extra element allows zero fields
        for (std::size_t i = 0; i < sizeof...(f); ++i) {
          for (std::size_t j = i + 1; j < sizeof...(f); ++j) {
            if (names[i] == names[j]) return false;
          }
        }
        return true;
      },
      fields);
}
}  // namespace detail

/// True when `record_mapping<T>` is specialised with a tuple of `field`s of T (or its bases).
template <class T>
concept mapped_record = requires { record_mapping<T>::fields; } &&
                        detail::fields_of<T, std::remove_cvref_t<decltype(record_mapping<T>::fields)>>;

/// The record for `v`, fields in mapping order. Allocates. Throws std::out_of_range naming
/// the field only for an unsigned 64-bit member above INT64_MAX, which a record cannot hold.
template <mapped_record T>
[[nodiscard]] auto to_record(const T& v) -> record {
  static_assert(detail::names_unique(record_mapping<T>::fields), "record_mapping: two fields have the same name");
  record r;
  std::apply(
      [&](const auto&... f) {
        r.reserve(sizeof...(f));
        (r.set(f.name, detail::to_value(v.*f.member, f.name)), ...);
      },
      record_mapping<T>::fields);
  return r;
}

/// The struct read from `r`. A missing field, a value of another kind (null included), or an
/// integer out of the member's range is an invalid_input error naming the field and the
/// kinds; an optional member takes nullopt from a null or missing field.
template <mapped_record T>
  requires std::default_initializable<T>
[[nodiscard]] auto from_record(const record& r) -> result<T> {
  static_assert(detail::names_unique(record_mapping<T>::fields), "record_mapping: two fields have the same name");
  T out{};
  std::optional<error> failure;
  auto read = [&](const auto& f) {
    using member_type = std::remove_cvref_t<decltype(out.*f.member)>;
    auto member = detail::from_value<member_type>(r.find(f.name), f.name);
    if (!member) {
      failure = std::move(member).error();
      return false;
    }
    out.*f.member = std::move(*member);
    return true;
  };
  std::apply([&](const auto&... f) { static_cast<void>((read(f) && ...)); }, record_mapping<T>::fields);
  if (failure) return std::move(*failure);
  return out;
}

}  // namespace pipeline
