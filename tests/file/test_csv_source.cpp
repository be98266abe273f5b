#include <pipeline/file/csv_source.hpp>

#include <cerrno>
#include <stdexcept>
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
using namespace std::string_view_literals;
namespace file = pipeline::file;

using batches = std::vector<pipeline::batch<record>>;

// Reads `text` as a CSV file with `options` (its path set here) to the end.
auto read_csv(std::string_view text, file::csv_source_options options = {}) -> batches {
  return file_test::read_text<file::csv_source>(text, std::move(options), "in.csv");
}

auto records(std::string_view text, file::csv_source_options options = {}) -> std::vector<record> {
  return file_test::records_of(read_csv(text, std::move(options)));
}

auto no_header() -> file::csv_source_options { return {.has_header = false}; }

// --- RFC 4180 -------------------------------------------------------------------------------

TEST(csv_source, the_header_names_the_fields) {
  EXPECT_THAT(records("id,name\n1,ann\n2,bob\n"),
              ::testing::ElementsAre(record{{"id", "1"}, {"name", "ann"}}, record{{"id", "2"}, {"name", "bob"}}));
}

TEST(csv_source, without_a_header_fields_are_named_c0_c1_and_so_on) {
  EXPECT_THAT(records("1,ann\n2,bob,extra\n", no_header()),
              ::testing::ElementsAre(record{{"c0", "1"}, {"c1", "ann"}},
                                     record{{"c0", "2"}, {"c1", "bob"}, {"c2", "extra"}}));
}

TEST(csv_source, a_quoted_field_holds_the_delimiter) {
  EXPECT_THAT(records("a,b\n\"x,y\",z\n"), ::testing::ElementsAre(record{{"a", "x,y"}, {"b", "z"}}));
}

TEST(csv_source, a_doubled_quote_in_a_quoted_field_is_one_quote) {
  EXPECT_THAT(records("a\n\"say \"\"hi\"\"\"\n"), ::testing::ElementsAre(record{{"a", "say \"hi\""}}));
}

TEST(csv_source, line_breaks_in_a_quoted_field_are_data) {
  EXPECT_THAT(records("a,b\n\"one\ntwo\r\nthree\",x\n"),
              ::testing::ElementsAre(record{{"a", "one\ntwo\r\nthree"}, {"b", "x"}}));
}

TEST(csv_source, crlf_ends_a_record_and_is_not_part_of_the_last_field) {
  EXPECT_THAT(records("a,b\r\n1,2\r\n\"3\",\"4\"\r\n"),
              ::testing::ElementsAre(record{{"a", "1"}, {"b", "2"}}, record{{"a", "3"}, {"b", "4"}}));
}

TEST(csv_source, a_lone_cr_is_data) {
  EXPECT_THAT(records("a,b\n1\r2,3\n"), ::testing::ElementsAre(record{{"a", "1\r2"}, {"b", "3"}}));
}

TEST(csv_source, an_empty_field_is_the_empty_string_quoted_or_not) {
  EXPECT_THAT(records("a,b,c\n,\"\",\n"), ::testing::ElementsAre(record{{"a", ""}, {"b", ""}, {"c", ""}}));
}

TEST(csv_source, the_last_record_needs_no_line_end) {
  EXPECT_THAT(records("a\n1\n2"), ::testing::ElementsAre(record{{"a", "1"}}, record{{"a", "2"}}));
}

TEST(csv_source, blank_lines_are_skipped) {
  EXPECT_THAT(records("a\n\n1\r\n\r\n\n2\n\n"), ::testing::ElementsAre(record{{"a", "1"}}, record{{"a", "2"}}));
}

TEST(csv_source, the_delimiter_option_splits_fields) {
  file::csv_source_options semicolon{.delimiter = ';'};
  EXPECT_THAT(records("a;b\n1,5;\"x;y\"\n", semicolon), ::testing::ElementsAre(record{{"a", "1,5"}, {"b", "x;y"}}));
  file::csv_source_options tab{.delimiter = '\t'};
  EXPECT_THAT(records("a\tb\n1\t2\n", tab), ::testing::ElementsAre(record{{"a", "1"}, {"b", "2"}}));
}

TEST(csv_source, a_byte_order_mark_before_the_header_is_dropped) {
  EXPECT_THAT(records("\xEF\xBB\xBFid\n7\n"), ::testing::ElementsAre(record{{"id", "7"}}));
}

TEST(csv_source, bytes_that_are_not_utf8_pass_through_unchanged) {
  const std::string bad = "caf\xE9 \xFF\xFE \xC3";
  EXPECT_THAT(records("a\n" + bad + "\n"), ::testing::ElementsAre(record{{"a", bad}}));
}

TEST(csv_source, an_empty_file_is_exhausted_at_once) {
  EXPECT_TRUE(read_csv("").empty());
  EXPECT_TRUE(read_csv("", no_header()).empty());
  EXPECT_TRUE(read_csv("a,b\r\n").empty());
}

TEST(csv_source, records_come_in_batches_of_batch_size) {
  const auto got = read_csv("a\n1\n2\n3\n4\n5\n", {.batch_size = 2});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].size(), 2u);
  EXPECT_EQ(got[2].size(), 1u);
}

TEST(csv_source, the_position_is_the_offset_and_line_after_the_batch) {
  const auto got = read_csv("a\n1\n\"2\n2\"\n3\n", {.batch_size = 2});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].end, position{"10:5"});  // after "a\n1\n\"2\n2\"\n": 10 bytes, line 5 next
  EXPECT_EQ(got[1].end, position{"12:6"});
}

TEST(csv_source, a_tiny_read_buffer_reads_the_same_records) {
  const std::string text = "a,b\r\n\"x\"\"\r\n\",\"y,\"\r\n\r\n1,2\n\"q\nq\",\"\"\n";
  for (std::size_t buffer = 1; buffer <= 8; ++buffer) {
    EXPECT_EQ(file_test::describe(read_csv(text, {.read_buffer_bytes = buffer})), file_test::describe(read_csv(text)))
        << "read_buffer_bytes " << buffer;
  }
}

// Plain records are framed and split without the byte-by-byte lexer; records with quotes are
// not. Mixed, and cut by every buffer size, they read the same.
TEST(csv_source, plain_and_quoted_records_mixed_read_the_same_whatever_the_buffer) {
  const std::string text = "a,b\n1,\"x\ny\"\n2,z\n\"3\",\"\"\"q\"\n,\n44,\"w,v\"\n";
  const std::vector<record> expected{{{"a", "1"}, {"b", "x\ny"}}, {{"a", "2"}, {"b", "z"}},
                                     {{"a", "3"}, {"b", "\"q"}},     {{"a", ""}, {"b", ""}},
                                     {{"a", "44"}, {"b", "w,v"}}};
  for (std::size_t buffer = 1; buffer <= 24; ++buffer) {
    EXPECT_EQ(records(text, {.read_buffer_bytes = buffer}), expected) << "read_buffer_bytes " << buffer;
  }
}

// --- malformed records: rejected, and reading goes on -----------------------------------------

// The one rejected entry of `text`, and the records read around it.
auto reject_one(std::string_view text, file::csv_source_options options = {}) -> file_test::rejection {
  return file_test::only_rejection(read_csv(text, std::move(options)));
}

TEST(csv_source, a_quote_in_an_unquoted_field_is_rejected_and_reading_goes_on) {
  const auto r = reject_one("a,b\n1,2\nx\"y,3\n4,5\n");
  EXPECT_EQ(r.letter.payload, "x\"y,3");
  EXPECT_EQ(r.letter.reason.kind, error_kind::invalid_input);
  EXPECT_THAT(r.letter.reason.message, ::testing::HasSubstr("line 3: field 1: a quote inside an unquoted field"));
  EXPECT_THAT(r.records, ::testing::ElementsAre(record{{"a", "1"}, {"b", "2"}}, record{{"a", "4"}, {"b", "5"}}));
}

TEST(csv_source, text_after_a_closing_quote_is_rejected_and_reading_goes_on) {
  const auto r = reject_one("a,b\n\"x\"y,1\n2,3\n");
  EXPECT_EQ(r.letter.payload, "\"x\"y,1");
  EXPECT_THAT(r.letter.reason.message, ::testing::HasSubstr("line 2: field 1: text after the closing quote"));
  EXPECT_THAT(r.records, ::testing::ElementsAre(record{{"a", "2"}, {"b", "3"}}));
}

TEST(csv_source, a_field_count_unlike_the_headers_is_rejected_and_reading_goes_on) {
  const auto r = reject_one("a,b\n1,2,3\n4,5\n");
  EXPECT_EQ(r.letter.payload, "1,2,3");
  EXPECT_THAT(r.letter.reason.message, ::testing::HasSubstr("line 2: the record has 3 fields, the header has 2"));
  EXPECT_THAT(r.records, ::testing::ElementsAre(record{{"a", "4"}, {"b", "5"}}));
}

TEST(csv_source, a_quote_open_at_the_end_of_the_file_is_rejected_from_the_line_it_opened_on) {
  const auto r = reject_one("a,b\n1,2\n3,\"open\n4,5\n6,7\n");
  EXPECT_EQ(r.letter.payload, "3,\"open\n4,5\n6,7\n");
  EXPECT_THAT(r.letter.reason.message, ::testing::HasSubstr("line 3: field 2: a quoted field is not closed"));
  EXPECT_THAT(r.records, ::testing::ElementsAre(record{{"a", "1"}, {"b", "2"}}));
}

TEST(csv_source, a_rejected_record_keeps_its_offset_line_and_no_attempts) {
  const auto r = reject_one("a\n\"multi\nline\"\nbad\"\n");
  EXPECT_EQ(r.letter.pos, position{"15:4"});  // the multi-line record took lines 2 and 3
  EXPECT_EQ(r.letter.attempts, 0u);
  EXPECT_THAT(r.letter.reason.message, ::testing::HasSubstr("in.csv: line 4:"));
  EXPECT_NE(r.letter.time, std::chrono::system_clock::time_point{});
}

TEST(csv_source, a_10_mb_line_over_max_record_bytes_is_rejected_truncated_and_reading_goes_on) {
  const std::size_t mib = 1 << 20;
  std::string text = "a,b\n1,2\n";
  text.append(10 * mib, 'x');
  text += ",y\n3,4\n";
  const auto r = reject_one(text, {.max_record_bytes = mib});
  EXPECT_EQ(r.letter.payload.size(), mib);  // what is kept is bounded, not the 10 MB
  EXPECT_EQ(r.letter.payload, std::string(mib, 'x'));
  const auto why = fmt::format("line 3: record is {} bytes, more than max_record_bytes", 10 * mib + 2);
  EXPECT_THAT(r.letter.reason.message, ::testing::HasSubstr(why));
  EXPECT_THAT(r.records, ::testing::ElementsAre(record{{"a", "1"}, {"b", "2"}}, record{{"a", "3"}, {"b", "4"}}));
}

TEST(csv_source, a_record_of_exactly_max_record_bytes_fits_even_with_crlf) {
  const auto got = read_csv("a\r\n12345\r\n123456\r\n", {.max_record_bytes = 5});
  EXPECT_THAT(file_test::records_of(got), ::testing::ElementsAre(record{{"a", "12345"}}));
  ASSERT_EQ(file_test::rejected_of(got).size(), 1u);
  EXPECT_EQ(file_test::rejected_of(got)[0].payload, "12345");
}

// The error of the first read of `text`.
auto first_error(std::string_view text) -> pipeline::error {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "in.csv", text);
  file::csv_source src{{.path = dir / "in.csv"}};
  auto next = src.next_batch({});
  EXPECT_FALSE(next);
  return next ? pipeline::error{} : next.error();
}

TEST(csv_source, a_malformed_header_is_an_invalid_input_error) {
  const auto e = first_error("a,b\"\n1,2\n");
  EXPECT_EQ(e.kind, error_kind::invalid_input);
  EXPECT_THAT(e.message, ::testing::HasSubstr("the header row: field 2: a quote inside an unquoted field"));
}

TEST(csv_source, a_header_naming_a_column_twice_is_an_invalid_input_error) {
  const auto e = first_error("a,b,a\n1,2,3\n");
  EXPECT_EQ(e.kind, error_kind::invalid_input);
  EXPECT_THAT(e.message, ::testing::HasSubstr("\"a\" appears twice"));
}

// --- positions ------------------------------------------------------------------------------

TEST(csv_source, resuming_after_every_batch_yields_exactly_the_rest) {
  file_test::scratch_dir dir;
  std::string text = "id,v\r\n";
  for (int i = 0; i < 40; ++i) {
    text += i % 7 == 3 ? fmt::format("{},\"bad\"x\r\n", i) : fmt::format("{},\"v\n{}\"\r\n", i, i);
  }
  file_test::write_file(dir / "in.csv", text);
  file_test::expect_every_resume_yields_the_rest<file::csv_source>(
      file::csv_source_options{.path = dir / "in.csv", .batch_size = 6});
}

TEST(csv_source, seeking_keeps_line_numbers_right) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "in.csv", "a\n1\n\"2\n2\"\n\n3\"\n");
  const auto rest = file_test::rejected_after_resuming_at_the_first_batch<file::csv_source>(
      file::csv_source_options{.path = dir / "in.csv", .batch_size = 1});
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_THAT(rest[0].reason.message, ::testing::HasSubstr("line 6:"));
}

TEST(csv_source, seeking_to_a_rejected_records_position_reads_it_again) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "in.csv", "a\n1\nx\"\n2\n");
  file::csv_source src{{.path = dir / "in.csv"}};
  const auto rejected = file_test::rejected_of(file_test::drain(src));
  ASSERT_EQ(rejected.size(), 1u);
  ASSERT_TRUE(src.seek(rejected[0].pos));
  const auto again = file_test::drain(src);
  ASSERT_EQ(file_test::rejected_of(again).size(), 1u);
  EXPECT_EQ(file_test::rejected_of(again)[0].payload, "x\"");
  EXPECT_THAT(file_test::records_of(again), ::testing::ElementsAre(record{{"a", "2"}}));
}

TEST(csv_source, seeking_to_the_start_skips_the_header) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "in.csv", "a\n1\n");
  file::csv_source src{{.path = dir / "in.csv"}};
  (void)file_test::drain(src);
  for (const auto* start : {"", "0", "0:1"}) {
    ASSERT_TRUE(src.seek(position{start}));
    EXPECT_THAT(file_test::records_of(file_test::drain(src)), ::testing::ElementsAre(record{{"a", "1"}}));
  }
}

TEST(csv_source, a_position_it_did_not_write_is_invalid_input) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "in.csv", "a\n1\n2\n");
  file::csv_source src{{.path = dir / "in.csv"}};
  for (const auto* bad : {"x", "4", "4:", ":2", "4:0", "2:9", "-1:1", "100:1"}) {
    auto r = src.seek(position{bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, error_kind::invalid_input) << bad;
  }
  ASSERT_TRUE(src.seek(position{"1:1"}));  // well formed, but inside the header row
  auto next = src.next_batch({});
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().kind, error_kind::invalid_input);
}

// --- misuse and I/O errors ------------------------------------------------------------------

TEST(csv_source, misuse_at_construction_throws_invalid_argument_naming_the_option) {
  const auto throws_naming = [](file::csv_source_options o, std::string_view name) {
    file_test::expect_invalid_argument_naming<file::csv_source>(std::move(o), name);
  };
  throws_naming({}, "path");
  throws_naming({.path = "x.csv", .batch_size = 0}, "batch_size");
  throws_naming({.path = "x.csv", .delimiter = '"'}, "delimiter");
  throws_naming({.path = "x.csv", .delimiter = '\n'}, "delimiter");
  throws_naming({.path = "x.csv", .max_record_bytes = 0}, "max_record_bytes");
  throws_naming({.path = "x.csv", .read_buffer_bytes = 0}, "read_buffer_bytes");
  throws_naming({.path = "x.csv", .max_batch_bytes = 0}, "max_batch_bytes");
  throws_naming({.path = "x.csv", .max_fields = 0}, "max_fields");
}

TEST(csv_source, a_missing_file_is_a_permanent_enoent_error) {
  file_test::scratch_dir dir;
  file::csv_source src{{.path = dir / "absent.csv"}};
  auto next = src.next_batch({});
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().kind, error_kind::permanent);
  EXPECT_EQ(next.error().native_code, ENOENT);
  EXPECT_EQ(next.error().backend, "errno");
  EXPECT_THAT(next.error().message, ::testing::HasSubstr("absent.csv"));
}

TEST(csv_source, a_path_under_a_regular_file_is_a_permanent_enotdir_error) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "plain", "not a directory");
  file::csv_source src{{.path = dir / "plain" / "in.csv"}};
  auto next = src.next_batch({});
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().kind, error_kind::permanent);
  EXPECT_EQ(next.error().native_code, ENOTDIR);
  auto sought = src.seek(position{"0"});
  ASSERT_FALSE(sought);
  EXPECT_EQ(sought.error().native_code, ENOTDIR);
}

}  // namespace
