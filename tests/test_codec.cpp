#include <pipeline/codec.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>

namespace {

struct order {
  std::int64_t id = 0;
  std::string customer;
  std::optional<double> discount;

  friend auto operator==(const order&, const order&) -> bool = default;
};

}  // namespace

template <>
struct pipeline::record_mapping<order> {
  static constexpr auto fields = std::make_tuple(pipeline::field("id", &order::id),
                                                 pipeline::field("customer", &order::customer),
                                                 pipeline::field("discount", &order::discount));
};

namespace {

using pipeline::record;
using pipeline::record_codec;
using pipeline::value;
using std::string_literals::operator""s;

static_assert(pipeline::codec<record_codec, record>);
static_assert(pipeline::codec<pipeline::mapped_codec<order>, order>);
static_assert(!pipeline::codec<record_codec, order>);

auto encode(const record& r) -> std::string {
  std::string out;
  record_codec{}.encode(r, out);
  return out;
}

auto decode_error(std::string_view in) -> std::string {
  auto r = record_codec{}.decode(in);
  EXPECT_FALSE(r) << "decoded: " << fmt::format("{}", *r);
  if (r) return {};
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  return r.error().message;
}

auto expect_round_trip(const record& r) -> void {
  auto back = record_codec{}.decode(encode(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);
}

// A record with a field of each kind, for the hostile-input tests to start from.
auto every_kind() -> record {
  return record{{"null", nullptr},
                {"yes", true},
                {"no", false},
                {"int", -2},
                {"real", 2.5},
                {"text", "hé\n"},
                {"blob", pipeline::bytes{std::byte{0}, std::byte{0xff}}},
                {"when", pipeline::timestamp{std::chrono::microseconds{1'700'000'000'000'001}}}};
}

TEST(record_codec, round_trips_every_value_kind) { expect_round_trip(every_kind()); }

TEST(record_codec, round_trips_an_empty_record_and_empty_names) {
  expect_round_trip(record{});
  expect_round_trip(record{{"", ""}});
}

TEST(record_codec, round_trips_integer_extremes) {
  expect_round_trip(record{{"min", std::numeric_limits<std::int64_t>::min()},
                           {"max", std::numeric_limits<std::int64_t>::max()},
                           {"zero", 0},
                           {"minus_one", -1}});
}

TEST(record_codec, round_trips_special_doubles_bit_for_bit) {
  const double nan_with_payload = std::bit_cast<double>(std::uint64_t{0x7ff8'0000'dead'beef});
  const record r{{"nan", nan_with_payload},
                 {"inf", std::numeric_limits<double>::infinity()},
                 {"minus_inf", -std::numeric_limits<double>::infinity()},
                 {"minus_zero", -0.0},
                 {"denormal", std::numeric_limits<double>::denorm_min()},
                 {"max", std::numeric_limits<double>::max()}};
  auto back = record_codec{}.decode(encode(r));
  ASSERT_TRUE(back);
  for (const auto& [name, v] : r) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(back->find(name)->get<double>()), std::bit_cast<std::uint64_t>(v.get<double>()))
        << name;
  }
}

TEST(record_codec, round_trips_strings_with_embedded_nuls) {
  expect_round_trip(record{{"nul"s, "a\0b\0"s}, {"a\0key"s, "\0"s}});
}

TEST(record_codec, round_trips_large_bytes) {
  pipeline::bytes big(3'000'000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7919 % 251);
  expect_round_trip(record{{"big", big}, {"after", 1}});
}

TEST(record_codec, round_trips_timestamp_extremes) {
  using std::chrono::microseconds;
  expect_round_trip(record{{"min", pipeline::timestamp{microseconds{std::numeric_limits<std::int64_t>::min()}}},
                           {"max", pipeline::timestamp{microseconds{std::numeric_limits<std::int64_t>::max()}}},
                           {"before_epoch", pipeline::timestamp{microseconds{-1}}}});
}

TEST(record_codec, round_trips_many_fields) {
  record r;
  for (int i = 0; i < 1000; ++i) r.set(fmt::format("f{}", i), i);
  expect_round_trip(r);
}

TEST(record_codec, layout_is_the_documented_one) {
  std::string expected;
  expected += "\x01"s;                   // version
  expected += "\x03"s;                   // three fields
  expected += "\x01" "a" "\x03"s;        // name "a", int64
  expected += "\x2c\x01\0\0\0\0\0\0"s;   // 300, little-endian
  expected += "\x01" "b" "\x02"s;        // name "b", true
  expected += "\x00" "\x05" "\x81\x01"s;  // name "", string of 129 bytes (varint 0x81 0x01)
  expected += std::string(129, 'x');
  EXPECT_EQ(encode(record{{"a", 300}, {"b", true}, {"", std::string(129, 'x')}}), expected);
}

TEST(record_codec, encode_appends_to_out) {
  std::string out = "head";
  record_codec{}.encode(record{}, out);
  EXPECT_EQ(out, "head\x01\x00"s);
}

TEST(record_codec, empty_input_is_invalid_input) {
  EXPECT_EQ(decode_error(""), "record_codec: empty input at byte 0");
}

TEST(record_codec, unknown_version_is_invalid_input) {
  EXPECT_EQ(decode_error("\x02\x00"s), "record_codec: unsupported version 2 (this build reads 1) at byte 0");
}

TEST(record_codec, truncated_input_is_invalid_input) {
  const std::string full = encode(every_kind());
  for (std::size_t n = 1; n < full.size(); ++n) {
    auto r = record_codec{}.decode(std::string_view(full).substr(0, n));
    ASSERT_FALSE(r) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  }
}

TEST(record_codec, truncation_names_what_was_being_read) {
  EXPECT_EQ(decode_error("\x01\x01\x01" "a" "\x03\x01\x02"s),
            "record_codec: input truncated reading int64 at byte 5");
}

TEST(record_codec, unknown_tag_is_invalid_input) {
  EXPECT_EQ(decode_error("\x01\x01\x01" "a" "\x08"s), "record_codec: unknown type tag 0x08 at byte 4");
}

TEST(record_codec, length_past_the_end_is_invalid_input) {
  EXPECT_EQ(decode_error("\x01\x01\x01" "a" "\x05\x05" "abcd"s),
            "record_codec: string length 5 runs past the end (4 bytes left) at byte 5");
}

TEST(record_codec, forged_huge_length_is_refused_before_allocating) {
  // 2^62 - 1 as a string length: allocating it would throw (or abort under ASan).
  EXPECT_EQ(decode_error("\x01\x01\x01" "a" "\x05\xff\xff\xff\xff\xff\xff\xff\xff\x3f" "abc"s),
            "record_codec: string length 4611686018427387903 runs past the end (3 bytes left) at byte 5");
}

TEST(record_codec, forged_huge_field_count_is_refused_before_allocating) {
  EXPECT_EQ(decode_error("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01" "\x00\x00"s),
            "record_codec: field count 18446744073709551615 is more than 2 bytes can hold at byte 1");
}

TEST(record_codec, varint_longer_than_64_bits_is_invalid_input) {
  EXPECT_EQ(decode_error("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"s),
            "record_codec: field count overflows 64 bits at byte 1");
  EXPECT_EQ(decode_error("\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"s),
            "record_codec: field count overflows 64 bits at byte 1");
}

TEST(record_codec, non_minimal_varint_is_invalid_input) {
  EXPECT_EQ(decode_error("\x01\x80\x00"s), "record_codec: field count is not minimally encoded at byte 1");
}

TEST(record_codec, trailing_garbage_is_invalid_input) {
  EXPECT_EQ(decode_error(encode(every_kind()) + "\x00\x01"s),
            fmt::format("record_codec: 2 bytes of trailing data at byte {}", encode(every_kind()).size()));
}

TEST(record_codec, duplicate_field_names_are_invalid_input) {
  EXPECT_EQ(decode_error("\x01\x02\x01" "a" "\x00\x01" "a" "\x01"s), "record: field \"a\" appears twice");
}

// Every input either decodes to a record whose encoding is that input (the format has one
// encoding per record), or is invalid_input. Run under ASan to also catch out-of-bounds reads.
// Returns whether `in` decoded.
auto check_hostile(std::string_view in) -> bool {
  auto r = record_codec{}.decode(in);
  if (r) {
    EXPECT_EQ(encode(*r), in);
  } else {
    EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input) << r.error().message;
  }
  return r.has_value();
}

TEST(record_codec, random_bytes_never_crash_and_only_canonical_input_decodes) {
  std::mt19937_64 rng(20240601);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> small(0, 9);  // tags and short lengths reach deeper
  std::uniform_int_distribution<std::size_t> length(0, 48);
  std::string in;
  for (int i = 0; i < 200'000; ++i) {
    in.clear();
    if (rng() % 10 != 0) in += '\x01';  // mostly the right version, to get past it
    const std::size_t n = length(rng);
    for (std::size_t j = 0; j < n; ++j) in += static_cast<char>(rng() % 2 ? small(rng) : byte(rng));
    (void)check_hostile(in);
  }
}

TEST(record_codec, mutated_encodings_never_crash) {
  std::mt19937_64 rng(7);
  const std::string valid = encode(every_kind());
  std::uniform_int_distribution<int> byte(0, 255);
  std::size_t decoded = 0;
  for (int i = 0; i < 100'000; ++i) {
    std::string in = valid;
    const auto mutations = 1 + rng() % 3;
    for (std::uint64_t m = 0; m < mutations && !in.empty(); ++m) {
      const std::size_t at = rng() % in.size();
      switch (rng() % 4) {
        case 0: in[at] = static_cast<char>(byte(rng)); break;                       // replace
        case 1: in[at] = static_cast<char>(in[at] ^ (1 << (rng() % 8))); break;     // flip a bit
        case 2: in.insert(at, 1, static_cast<char>(byte(rng))); break;              // insert
        default: in.erase(at, 1 + rng() % 4); break;                                // delete
      }
    }
    if (check_hostile(in)) ++decoded;
  }
  EXPECT_GT(decoded, 0u) << "mutations should sometimes still decode (a changed value)";
}

TEST(mapped_codec, round_trips_a_mapped_struct) {
  pipeline::mapped_codec<order> c;
  std::string wire;
  c.encode(order{7, "acme", 0.1}, wire);
  const std::size_t first = wire.size();
  c.encode(order{8, "", std::nullopt}, wire);  // appends; the queue frames each one
  auto a = c.decode(std::string_view(wire).substr(0, first));
  auto b = c.decode(std::string_view(wire).substr(first));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, (order{7, "acme", 0.1}));
  EXPECT_EQ(*b, (order{8, "", std::nullopt}));
}

TEST(mapped_codec, record_that_does_not_map_is_invalid_input) {
  auto r = pipeline::mapped_codec<order>{}.decode(encode(record{{"id", "seven"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_EQ(r.error().message, "field \"id\" is string, expected int64");
}

TEST(mapped_codec, bad_bytes_are_invalid_input) {
  auto r = pipeline::mapped_codec<order>{}.decode("\x09");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
}

}  // namespace
