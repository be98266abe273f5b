#include <pipeline/record_mapping.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

struct user {
  std::int64_t id = 0;
  std::string email;
  std::optional<std::string> name;
  bool verified = false;
  double score = 0;
  pipeline::bytes avatar;
  pipeline::timestamp created{};
  std::optional<std::int64_t> referrer;

  friend auto operator==(const user&, const user&) -> bool = default;
};

struct narrow {
  std::int8_t tiny = 0;
  std::uint16_t port = 0;
  std::int32_t count = 0;
  float ratio = 0;
};

struct wide {
  std::uint64_t big = 0;
};

struct base {
  std::int64_t id = 0;
};
struct derived : base {
  std::string label;
};

struct unmapped {
  int x = 0;
};

}  // namespace

template <>
struct pipeline::record_mapping<user> {
  static constexpr auto fields =
      std::make_tuple(pipeline::field("id", &user::id), pipeline::field("email", &user::email),
                      pipeline::field("name", &user::name), pipeline::field("verified", &user::verified),
                      pipeline::field("score", &user::score), pipeline::field("avatar", &user::avatar),
                      pipeline::field("created", &user::created), pipeline::field("referrer", &user::referrer));
};

template <>
struct pipeline::record_mapping<narrow> {
  static constexpr auto fields =
      std::make_tuple(pipeline::field("tiny", &narrow::tiny), pipeline::field("port", &narrow::port),
                      pipeline::field("count", &narrow::count), pipeline::field("ratio", &narrow::ratio));
};

template <>
struct pipeline::record_mapping<wide> {
  static constexpr auto fields = std::make_tuple(pipeline::field("big", &wide::big));
};

template <>
struct pipeline::record_mapping<derived> {
  static constexpr auto fields =
      std::make_tuple(pipeline::field("id", &derived::id), pipeline::field("label", &derived::label));
};

namespace {

using pipeline::record;
using pipeline::value;

static_assert(pipeline::mapped_record<user>);
static_assert(pipeline::mapped_record<derived>);
static_assert(!pipeline::mapped_record<unmapped>);
static_assert(!pipeline::mapped_record<int>);

auto sample_user() -> user {
  return user{42,
              "ada@example.com",
              "Ada",
              true,
              0.75,
              {std::byte{0xff}, std::byte{0x00}},
              pipeline::timestamp{std::chrono::microseconds{1'700'000'000'123'456}},
              std::nullopt};
}

auto error_of(const pipeline::result<narrow>& r) -> std::string {
  EXPECT_FALSE(r);
  if (r) return {};
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  return r.error().message;
}

TEST(record_mapping, to_record_writes_fields_in_mapping_order) {
  const record r = pipeline::to_record(sample_user());
  EXPECT_EQ(r, (record{{"id", 42},
                       {"email", "ada@example.com"},
                       {"name", "Ada"},
                       {"verified", true},
                       {"score", 0.75},
                       {"avatar", pipeline::bytes{std::byte{0xff}, std::byte{0x00}}},
                       {"created", pipeline::timestamp{std::chrono::microseconds{1'700'000'000'123'456}}},
                       {"referrer", nullptr}}));
}

TEST(record_mapping, round_trips_every_member_type) {
  const user u = sample_user();
  auto back = pipeline::from_record<user>(pipeline::to_record(u));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, u);
}

TEST(record_mapping, nullopt_is_written_as_null) {
  user u = sample_user();
  u.name.reset();
  EXPECT_TRUE(pipeline::to_record(u).find("name")->is_null());
}

TEST(record_mapping, null_or_missing_optional_reads_as_nullopt) {
  record r = pipeline::to_record(sample_user());
  r.set("name", nullptr);
  auto with_null = pipeline::from_record<user>(r);
  ASSERT_TRUE(with_null);
  EXPECT_EQ(with_null->name, std::nullopt);

  auto fields = std::vector<record::entry>(r.begin(), r.end());
  std::erase_if(fields, [](const auto& f) { return f.first == "name"; });
  auto missing = pipeline::from_record<user>(*record::from_fields(std::move(fields)));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->name, std::nullopt);
}

TEST(record_mapping, extra_fields_are_ignored) {
  record r = pipeline::to_record(sample_user());
  r.set("_id", "65a0f0c2e4b0a1b2c3d4e5f6");
  auto u = pipeline::from_record<user>(r);
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, sample_user());
}

TEST(record_mapping, missing_field_is_invalid_input_naming_it) {
  auto r = pipeline::from_record<narrow>(record{{"tiny", 1}, {"port", 80}, {"ratio", 0.5}});
  EXPECT_EQ(error_of(r), "field \"count\" is missing (expected int64)");
}

TEST(record_mapping, wrong_kind_is_invalid_input_naming_field_and_kinds) {
  auto r = pipeline::from_record<narrow>(record{{"tiny", 1}, {"port", "80"}, {"count", 1}, {"ratio", 0.5}});
  EXPECT_EQ(error_of(r), "field \"port\" is string, expected int64");
}

TEST(record_mapping, null_for_a_required_member_is_invalid_input) {
  auto r = pipeline::from_record<user>(record{{"id", nullptr}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "field \"id\" is null, expected int64");
}

TEST(record_mapping, integer_out_of_member_range_is_invalid_input) {
  EXPECT_EQ(error_of(pipeline::from_record<narrow>(record{{"tiny", 128}, {"port", 1}, {"count", 1}, {"ratio", 0.5}})),
            "field \"tiny\": int64 value 128 does not fit in int8");
  EXPECT_EQ(error_of(pipeline::from_record<narrow>(record{{"tiny", 1}, {"port", -1}, {"count", 1}, {"ratio", 0.5}})),
            "field \"port\": int64 value -1 does not fit in uint16");
  EXPECT_EQ(error_of(pipeline::from_record<narrow>(
                record{{"tiny", 1}, {"port", 1}, {"count", std::int64_t{1} << 31}, {"ratio", 0.5}})),
            "field \"count\": int64 value 2147483648 does not fit in int32");
}

TEST(record_mapping, integer_range_limits_are_accepted) {
  auto r = pipeline::from_record<narrow>(record{{"tiny", -128}, {"port", 65535}, {"count", -2147483648LL}, {"ratio", 0.5}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tiny, -128);
  EXPECT_EQ(r->port, 65535);
  EXPECT_EQ(r->count, std::numeric_limits<std::int32_t>::min());
}

TEST(record_mapping, double_beyond_float_range_is_invalid_input) {
  EXPECT_EQ(error_of(pipeline::from_record<narrow>(record{{"tiny", 1}, {"port", 1}, {"count", 1}, {"ratio", 1e300}})),
            "field \"ratio\": float64 value 1e+300 does not fit in float32");
}

TEST(record_mapping, infinity_fits_in_float) {
  auto r = pipeline::from_record<narrow>(
      record{{"tiny", 1}, {"port", 1}, {"count", 1}, {"ratio", -std::numeric_limits<double>::infinity()}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ratio, -std::numeric_limits<float>::infinity());
}

TEST(record_mapping, first_error_stops_reading) {
  auto r = pipeline::from_record<narrow>(record{});
  EXPECT_EQ(error_of(r), "field \"tiny\" is missing (expected int64)");
}

TEST(record_mapping, uint64_above_int64_max_throws_naming_the_field) {
  EXPECT_EQ(pipeline::to_record(wide{std::uint64_t{1} << 62}), (record{{"big", std::int64_t{1} << 62}}));
  try {
    (void)pipeline::to_record(wide{std::numeric_limits<std::uint64_t>::max()});
    FAIL() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "field \"big\": uint64 value 18446744073709551615 does not fit in int64");
  }
}

TEST(record_mapping, members_of_a_base_class_map) {
  derived d;
  d.id = 5;
  d.label = "five";
  const record r = pipeline::to_record(d);
  EXPECT_EQ(r, (record{{"id", 5}, {"label", "five"}}));
  auto back = pipeline::from_record<derived>(r);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, 5);
  EXPECT_EQ(back->label, "five");
}

}  // namespace
