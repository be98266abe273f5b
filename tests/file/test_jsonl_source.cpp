#include <pipeline/file/jsonl_source.hpp>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "file_test_support.hpp"

namespace {

using pipeline::error_kind;
using pipeline::position;
using pipeline::record;
namespace file = pipeline::file;

using batches = std::vector<pipeline::batch<record>>;

auto read_jsonl(std::string_view text, file::jsonl_source_options options = {}) -> batches {
  return file_test::read_text<file::jsonl_source>(text, std::move(options), "in.jsonl");
}

auto records(std::string_view text) -> std::vector<record> { return file_test::records_of(read_jsonl(text)); }

// The one rejected line of `text`, and the records read around it.
auto reject_one(std::string_view text, file::jsonl_source_options options = {}) -> file_test::rejection {
  return file_test::only_rejection(read_jsonl(text, std::move(options)));
}

TEST(jsonl_source, members_map_to_values_by_json_type) {
  EXPECT_THAT(records(R"({"n":null,"t":true,"f":false,"i":-42,"u":42,"d":1.5,"e":2e3,"s":"h\u00e9\n"})"
                      "\n"),
              ::testing::ElementsAre(record{{"n", nullptr},
                                            {"t", true},
                                            {"f", false},
                                            {"i", -42},
                                            {"u", 42},
                                            {"d", 1.5},
                                            {"e", 2000.0},
                                            {"s", "h\xC3\xA9\n"}}));
}

TEST(jsonl_source, integers_cover_the_whole_int64_range) {
  EXPECT_THAT(records(R"({"min":-9223372036854775808,"max":9223372036854775807})"),
              ::testing::ElementsAre(record{{"min", std::numeric_limits<std::int64_t>::min()},
                                            {"max", std::numeric_limits<std::int64_t>::max()}}));
}

TEST(jsonl_source, members_keep_the_order_of_the_line) {
  EXPECT_THAT(records(R"({"z":1,"a":2,"m":3})"), ::testing::ElementsAre(record{{"z", 1}, {"a", 2}, {"m", 3}}));
}

TEST(jsonl_source, nested_objects_and_arrays_are_kept_as_their_json_text) {
  EXPECT_THAT(records(R"({"o": {"b": [1, 2.5, "x"], "a": null}, "l": []})"),
              ::testing::ElementsAre(record{{"o", R"({"b":[1,2.5,"x"],"a":null})"}, {"l", "[]"}}));
}

TEST(jsonl_source, empty_lines_are_skipped_and_crlf_is_accepted) {
  EXPECT_THAT(records("\n{\"a\":1}\r\n\r\n\n{\"a\":2}"), ::testing::ElementsAre(record{{"a", 1}}, record{{"a", 2}}));
}

TEST(jsonl_source, an_integer_beyond_int64_is_rejected_and_reading_goes_on) {
  const auto [letter, rest] = reject_one("{\"a\":1}\n{\"big\":18446744073709551615}\n{\"a\":2}\n");
  EXPECT_EQ(letter.payload, R"({"big":18446744073709551615})");
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("line 2: member \"big\": 18446744073709551615 does not fit"));
  EXPECT_THAT(rest, ::testing::ElementsAre(record{{"a", 1}}, record{{"a", 2}}));
}

TEST(jsonl_source, an_integer_below_int64_is_rejected_not_read_as_a_double) {
  const auto [letter, rest] = reject_one("{\"a\":-9223372036854775809}\n{\"a\":2}\n");
  EXPECT_EQ(letter.reason.kind, error_kind::invalid_input);
  EXPECT_THAT(letter.reason.message,
              ::testing::HasSubstr("line 1: member \"a\": -9223372036854775809 does not fit in a signed 64-bit integer"));
  EXPECT_THAT(rest, ::testing::ElementsAre(record{{"a", 2}}));
}

TEST(jsonl_source, a_double_that_overflows_is_rejected_naming_the_member) {
  for (const auto* number : {"1e400", "-1e400", "1.8e308"}) {
    const auto [letter, rest] = reject_one(fmt::format("{{\"x\":{}}}\n", number));
    EXPECT_THAT(letter.reason.message, ::testing::HasSubstr(fmt::format("member \"x\": {} is too large for a double", number)));
  }
}

TEST(jsonl_source, a_double_that_underflows_to_zero_is_rejected_naming_the_member) {
  for (const auto* number : {"1e-400", "-2.5e-330"}) {
    const auto [letter, rest] = reject_one(fmt::format("{{\"x\":{}}}\n", number));
    EXPECT_THAT(letter.reason.message,
                ::testing::HasSubstr(fmt::format("member \"x\": {} is too small for a double (it would read as 0)", number)));
  }
}

TEST(jsonl_source, a_subnormal_double_is_read_when_it_keeps_the_digits_written) {
  EXPECT_THAT(records(R"({"a":5e-324,"b":4.9406564584124654e-324,"c":1e-310,"d":0e-400,"e":-0.0})"),
              ::testing::ElementsAre(record{{"a", 5e-324}, {"b", 5e-324}, {"c", 1e-310}, {"d", 0.0}, {"e", -0.0}}));
  const auto [letter, rest] = reject_one("{\"x\":1.2345678901234567e-320}\n");
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("member \"x\": 1.2345678901234567e-320 is subnormal"));
}

TEST(jsonl_source, zero_is_read_however_it_is_written) {
  EXPECT_THAT(records(R"({"a":0e5,"b":0.0,"c":-0,"d":0e-400,"e":0E+99999999999999999999,"f":-0.000e-5})"),
              ::testing::ElementsAre(record{{"a", 0.0}, {"b", 0.0}, {"c", 0}, {"d", 0.0}, {"e", 0.0}, {"f", -0.0}}));
}

TEST(jsonl_source, an_exponent_past_every_range_is_refused_not_wrapped) {
  const auto large = reject_one("{\"x\":1e99999999999999999999}\n");
  EXPECT_THAT(large.letter.reason.message,
              ::testing::HasSubstr("member \"x\": 1e99999999999999999999 is too large for a double"));
  const auto small = reject_one("{\"x\":-1e-99999999999999999999}\n");
  EXPECT_THAT(small.letter.reason.message,
              ::testing::HasSubstr("member \"x\": -1e-99999999999999999999 is too small for a double"));
}

TEST(jsonl_source, out_of_range_numbers_are_kept_as_their_text_when_asked) {
  const auto all = read_jsonl(R"({"i":-9223372036854775809,"u":18446744073709551615,"o":1e400,"z":1e-400,"s":1.2345678901234567e-320,"n":1})",
                              {.numbers_out_of_range = file::out_of_range::keep_as_text});
  EXPECT_THAT(file_test::records_of(all),
              ::testing::ElementsAre(record{{"i", "-9223372036854775809"},
                                            {"u", "18446744073709551615"},
                                            {"o", "1e400"},
                                            {"z", "1e-400"},
                                            {"s", "1.2345678901234567e-320"},
                                            {"n", 1}}));
}

TEST(jsonl_source, numbers_inside_nested_values_are_kept_as_written) {
  EXPECT_THAT(records(R"({"o":[1e400, -9223372036854775809, 1.50]})"),
              ::testing::ElementsAre(record{{"o", "[1e400,-9223372036854775809,1.50]"}}));
}

TEST(jsonl_source, escapes_and_surrogate_pairs_decode_and_a_lone_surrogate_is_rejected) {
  EXPECT_THAT(records(R"({"s":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"})"),
              ::testing::ElementsAre(record{{"s", "\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80"}}));
  for (const auto* bad : {R"({"s":"\ud83d"})", R"({"s":"\ude00"})", "{\"s\":\"a\tb\"}", R"({"s":"\x"})"}) {
    const auto [letter, rest] = reject_one(fmt::format("{}\n", bad));
    EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("not JSON")) << bad;
  }
}

TEST(jsonl_source, a_member_name_twice_inside_a_nested_value_is_kept_as_written) {
  EXPECT_THAT(records(R"({"o":{"a":1,"a":2}})"), ::testing::ElementsAre(record{{"o", R"({"a":1,"a":2})"}}));
}

TEST(jsonl_source, a_line_that_is_not_json_is_rejected_with_its_line_and_reading_goes_on) {
  const auto [letter, rest] = reject_one("{\"a\":1}\n\n{\"a\":\n{\"a\":3}\n");
  EXPECT_EQ(letter.payload, "{\"a\":");
  EXPECT_EQ(letter.reason.kind, error_kind::invalid_input);
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("in.jsonl: line 3: not JSON"));
  EXPECT_EQ(letter.pos, position{"9:3"});
  EXPECT_EQ(letter.attempts, 0u);
  EXPECT_THAT(rest, ::testing::ElementsAre(record{{"a", 1}}, record{{"a", 3}}));
}

TEST(jsonl_source, json_that_is_not_an_object_is_rejected) {
  for (const auto* line : {"[1,2]", "42", "\"text\"", "null", "  "}) {
    const auto [letter, rest] = reject_one(fmt::format("{}\n{{\"ok\":true}}\n", line));
    EXPECT_EQ(letter.reason.kind, error_kind::invalid_input) << line;
    EXPECT_THAT(rest, ::testing::ElementsAre(record{{"ok", true}})) << line;
  }
}

TEST(jsonl_source, two_objects_on_one_line_are_rejected) {
  const auto [letter, rest] = reject_one("{\"a\":1} {\"a\":2}\n");
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("not JSON"));
}

TEST(jsonl_source, a_member_name_twice_is_rejected) {
  const auto [letter, rest] = reject_one(R"({"a":1,"b":{"a":2,"a":3},"a":4})");
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("a member name appears twice"));
}

TEST(jsonl_source, a_member_name_twice_is_rejected_when_only_its_escapes_differ) {
  const auto [letter, rest] = reject_one("{\"a\":1,\"\\u0061\":2}\n{\"a\":3}\n");
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("line 1: a member name appears twice"));
  EXPECT_THAT(rest, ::testing::ElementsAre(record{{"a", 3}}));
}

TEST(jsonl_source, nesting_deeper_than_128_levels_is_rejected) {
  const std::string deep = "{\"a\":" + std::string(200'000, '[') + std::string(200'000, ']') + "}";
  const std::string fine = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  const auto [letter, rest] = reject_one(deep + "\n" + fine + "\n", {.max_record_bytes = 1 << 20});
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("nested deeper than 128 levels"));
  EXPECT_THAT(rest, ::testing::ElementsAre(record{{"a", std::string(100, '[') + std::string(100, ']')}}));
}

TEST(jsonl_source, a_string_that_is_not_utf8_is_rejected) {
  const auto [letter, rest] = reject_one("{\"a\":\"caf\xE9\"}\n");
  EXPECT_EQ(letter.payload, "{\"a\":\"caf\xE9\"}");
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("not JSON"));
}

TEST(jsonl_source, a_line_over_max_record_bytes_is_rejected_truncated_and_reading_goes_on) {
  const std::string long_line = "{\"a\":\"" + std::string(5000, 'x') + "\"}";
  const auto [letter, rest] = reject_one("{\"a\":1}\n" + long_line + "\n{\"a\":2}\n", {.max_record_bytes = 1000});
  EXPECT_EQ(letter.payload, long_line.substr(0, 1000));
  EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("line 2: record is 5008 bytes, more than max_record_bytes"));
  EXPECT_THAT(rest, ::testing::ElementsAre(record{{"a", 1}}, record{{"a", 2}}));
}

TEST(jsonl_source, resuming_after_every_batch_yields_exactly_the_rest) {
  file_test::scratch_dir dir;
  std::string text;
  for (int i = 0; i < 50; ++i) text += i % 9 == 4 ? "{broken\n" : fmt::format("{{\"i\":{}}}\n{}", i, i % 4 ? "" : "\n");
  file_test::write_file(dir / "in.jsonl", text);
  file_test::expect_every_resume_yields_the_rest<file::jsonl_source>(
      file::jsonl_source_options{.path = dir / "in.jsonl", .batch_size = 7});
}

TEST(jsonl_source, seeking_keeps_line_numbers_right) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "in.jsonl", "{\"a\":1}\n\n{\"a\":2}\n\n\nnope\n");
  const auto rejected = file_test::rejected_after_resuming_at_the_first_batch<file::jsonl_source>(
      file::jsonl_source_options{.path = dir / "in.jsonl", .batch_size = 1});
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_THAT(rejected[0].reason.message, ::testing::HasSubstr("line 6:"));
}

TEST(jsonl_source, a_missing_file_is_a_permanent_enoent_error) {
  file_test::scratch_dir dir;
  file::jsonl_source src{{.path = dir / "absent.jsonl"}};
  auto next = src.next_batch({});
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().kind, error_kind::permanent);
  EXPECT_EQ(next.error().native_code, ENOENT);
}

TEST(jsonl_source, a_failed_open_is_tried_again_by_the_next_call) {
  file_test::scratch_dir dir;
  file::jsonl_source src{{.path = dir / "late.jsonl"}};
  ASSERT_FALSE(src.next_batch({}));  // not there yet
  file_test::write_file(dir / "late.jsonl", "{\"a\":1}\n");
  auto next = src.next_batch({});
  ASSERT_TRUE(next && *next);
  EXPECT_THAT((*next)->records, ::testing::ElementsAre(record{{"a", 1}}));
}

}  // namespace
