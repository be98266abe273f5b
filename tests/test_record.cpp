#include <pipeline/record.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

namespace {

using namespace std::chrono_literals;
using pipeline::record;
using pipeline::value;
using pipeline::value_kind;

auto at(std::chrono::sys_days day, std::chrono::microseconds since_midnight = {}) -> pipeline::timestamp {
  return pipeline::timestamp{day} + since_midnight;
}

// Conversions that would silently change a value's meaning do not compile.
static_assert(!std::is_convertible_v<std::uint64_t, value>, "uint64 does not fit int64; cast it");
static_assert(!std::is_convertible_v<char, value>, "a char is not a number");
static_assert(!std::is_convertible_v<const int*, value>, "a pointer is not a bool");
static_assert(!std::is_convertible_v<long double, value>, "long double would lose precision");
static_assert(std::is_convertible_v<std::uint32_t, value>);

TEST(value, default_is_null) {
  value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.kind(), value_kind::null);
  EXPECT_EQ(value{nullptr}, v);
}

TEST(value, each_alternative_reports_its_kind) {
  EXPECT_EQ(value{true}.kind(), value_kind::boolean);
  EXPECT_EQ(value{std::int64_t{1}}.kind(), value_kind::int64);
  EXPECT_EQ(value{1.5}.kind(), value_kind::float64);
  EXPECT_EQ(value{std::string("x")}.kind(), value_kind::string);
  EXPECT_EQ(value{pipeline::bytes{std::byte{1}}}.kind(), value_kind::binary);
  EXPECT_EQ(value{at(std::chrono::sys_days{})}.kind(), value_kind::datetime);
}

TEST(value, string_literal_is_a_string_not_a_bool) {
  value v = "text";
  ASSERT_NE(v.get_if<std::string>(), nullptr);
  EXPECT_EQ(*v.get_if<std::string>(), "text");
}

TEST(value, small_integers_and_floats_widen) {
  EXPECT_EQ(value{std::int8_t{-5}}, value{std::int64_t{-5}});
  EXPECT_EQ(value{std::uint32_t{4'000'000'000}}, value{std::int64_t{4'000'000'000}});
  EXPECT_EQ(value{0.5f}, value{0.5});
}

TEST(value, get_if_returns_nullptr_for_another_kind) {
  value v = 42;
  EXPECT_EQ(v.get_if<std::string>(), nullptr);
  EXPECT_EQ(v.get_if<double>(), nullptr);
  ASSERT_NE(v.get_if<std::int64_t>(), nullptr);
  EXPECT_EQ(*v.get_if<std::int64_t>(), 42);
}

TEST(value, get_if_allows_changing_the_held_value) {
  value v = std::string("a");
  *v.get_if<std::string>() += "b";
  EXPECT_EQ(v, value{"ab"});
}

TEST(value, get_throws_naming_both_kinds) {
  value v = 42;
  EXPECT_EQ(v.get<std::int64_t>(), 42);
  try {
    (void)v.get<std::string>();
    FAIL() << "no exception";
  } catch (const pipeline::bad_value_access& e) {
    EXPECT_STREQ(e.what(), "value holds int64, not string");
  }
}

TEST(value, int64_and_double_are_different_values) { EXPECT_NE(value{1}, value{1.0}); }

TEST(value, nan_equals_nan_so_equality_is_reflexive) {
  const value nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(nan, nan);
  EXPECT_NE(nan, value{0.0});
  EXPECT_EQ(value{0.0}, value{-0.0});
}

TEST(value, formats_scalars) {
  EXPECT_EQ(fmt::format("{}", value{}), "null");
  EXPECT_EQ(fmt::format("{}", value{true}), "true");
  EXPECT_EQ(fmt::format("{}", value{std::numeric_limits<std::int64_t>::min()}), "-9223372036854775808");
  EXPECT_EQ(fmt::format("{}", value{1.5}), "1.5");
  EXPECT_EQ(fmt::format("{:>6}", value{7}), "     7");
}

TEST(value, formats_strings_quoted_and_escaped) {
  EXPECT_EQ(fmt::format("{}", value{""}), R"("")");
  EXPECT_EQ(fmt::format("{}", value{"say \"hi\"\\\n"}), R"("say \"hi\"\\\n")");
  EXPECT_EQ(fmt::format("{}", value{std::string("a\0b", 3)}), R"("a\x00b")");
}

TEST(value, formats_bytes_as_hex) {
  EXPECT_EQ(fmt::format("{}", value{pipeline::bytes{}}), "0x");
  EXPECT_EQ(fmt::format("{}", value{pipeline::bytes{std::byte{0x00}, std::byte{0xab}, std::byte{0x0f}}}), "0x00ab0f");
}

TEST(value, formats_timestamps_as_iso8601_utc) {
  using std::chrono::year;
  EXPECT_EQ(fmt::format("{}", value{at(std::chrono::sys_days{})}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(fmt::format("{}", value{at(year{2024} / 2 / 29, 13h + 5min + 9s + 250us)}),
            "2024-02-29T13:05:09.000250Z");
  EXPECT_EQ(fmt::format("{}", value{at(year{1969} / 12 / 31, 23h + 59min + 59s + 999999us)}),
            "1969-12-31T23:59:59.999999Z");
}

TEST(value, formats_timestamps_beyond_four_digit_years_with_a_sign) {
  const pipeline::timestamp min{std::chrono::microseconds{std::numeric_limits<std::int64_t>::min()}};
  const pipeline::timestamp max{std::chrono::microseconds{std::numeric_limits<std::int64_t>::max()}};
  EXPECT_EQ(fmt::format("{}", value{min}), "-290308-12-21T19:59:05.224192Z");
  EXPECT_EQ(fmt::format("{}", value{max}), "+294247-01-10T04:00:54.775807Z");
  EXPECT_EQ(fmt::format("{}", value{at(std::chrono::year{-1} / 1 / 1)}), "-0001-01-01T00:00:00Z");
}

TEST(record, keeps_fields_in_insertion_order) {
  record r{{"b", 1}, {"a", 2}};
  r.set("c", 3);
  std::string names;
  for (const auto& [name, v] : r) names += name;
  EXPECT_EQ(names, "bac");
  EXPECT_EQ(r.size(), 3u);
}

TEST(record, set_replaces_an_existing_field_in_place) {
  record r{{"id", 1}, {"email", "a@x"}};
  r.set("id", 2);
  EXPECT_EQ(r, (record{{"id", 2}, {"email", "a@x"}}));
}

TEST(record, find_returns_the_value_or_nullptr) {
  record r{{"id", 7}};
  ASSERT_NE(r.find("id"), nullptr);
  EXPECT_EQ(*r.find("id"), value{7});
  EXPECT_EQ(r.find("ID"), nullptr);
  EXPECT_FALSE(r.contains("missing"));
}

TEST(record, find_allows_changing_a_value) {
  record r{{"n", 1}};
  *r.find("n") = "one";
  EXPECT_EQ(r, (record{{"n", "one"}}));
}

TEST(record, empty_record_has_no_fields) {
  record r;
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.begin(), r.end());
}

TEST(record, duplicate_names_at_construction_throw) {
  try {
    record r{{"id", 1}, {"id", 2}};
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "record: field \"id\" appears twice");
  }
}

TEST(record, duplicate_names_from_outside_are_invalid_input) {
  auto r = record::from_fields({{"a", 1}, {"b", 2}, {"a", 3}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_EQ(r.error().message, "record: field \"a\" appears twice");
}

TEST(record, a_duplicate_among_many_fields_is_found_wherever_it_is) {
  const auto wide = [](std::size_t n) {
    std::vector<record::entry> fields;
    for (std::size_t i = 0; i < n; ++i) fields.emplace_back(fmt::format("f{}", i), static_cast<std::int64_t>(i));
    return fields;
  };
  EXPECT_TRUE(record::from_fields(wide(50'000)));
  for (const std::size_t at : {std::size_t{0}, std::size_t{1}, std::size_t{24'999}, std::size_t{49'998}}) {
    auto fields = wide(50'000);
    fields.emplace_back(fields[at].first, 0);
    auto r = record::from_fields(std::move(fields));
    ASSERT_FALSE(r) << at;
    EXPECT_EQ(r.error().message, fmt::format("record: field \"f{}\" appears twice", at));
  }
  for (std::size_t n = 2; n <= 12; ++n) {  // around the few fields compared pairwise
    auto fields = wide(n);
    EXPECT_TRUE(record::from_fields(fields)) << n;
    fields.back().first = fields.front().first;
    EXPECT_FALSE(record::from_fields(std::move(fields))) << n;
  }
}

TEST(record, from_fields_keeps_the_order) {
  auto r = record::from_fields({{"z", 1}, {"a", 2}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (record{{"z", 1}, {"a", 2}}));
}

TEST(record, equality_depends_on_order) {
  EXPECT_NE((record{{"a", 1}, {"b", 2}}), (record{{"b", 2}, {"a", 1}}));
  EXPECT_NE((record{{"a", 1}}), (record{{"a", 1.0}}));
}

TEST(record, formats_as_a_braced_list) {
  EXPECT_EQ(fmt::format("{}", record{}), "{}");
  EXPECT_EQ(fmt::format("{}", record{{"id", 7}, {"email", "a@x"}, {"deleted", nullptr}}),
            R"({id: 7, email: "a@x", deleted: null})");
}

}  // namespace
