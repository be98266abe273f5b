// Hostile shapes through the file sources: each gives its documented dead letter or result, and
// every batch stays within max_batch_bytes as the sources count it (batch_memory_bytes). Also
// each record's own position.
#include <pipeline/file/csv_source.hpp>
#include <pipeline/file/dead_letter_file.hpp>
#include <pipeline/file/dead_letter_file_source.hpp>
#include <pipeline/file/jsonl_source.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "batch_memory.hpp"
#include "file_test_support.hpp"

namespace {

using pipeline::record;
namespace file = pipeline::file;
namespace detail = pipeline::file::detail;

using batches = std::vector<pipeline::batch<record>>;

auto read_csv(std::string_view text, file::csv_source_options options) -> batches {
  return file_test::read_text<file::csv_source>(text, std::move(options), "in.csv");
}

auto read_jsonl(std::string_view text, file::jsonl_source_options options) -> batches {
  return file_test::read_text<file::jsonl_source>(text, std::move(options), "in.jsonl");
}

// `n` CSV rows of `fields` empty fields.
auto empty_rows(std::size_t n, std::size_t fields) -> std::string {
  std::string text;
  for (std::size_t i = 0; i < n; ++i) text += std::string(fields - 1, ',') + "\n";
  return text;
}

// A JSONL object of `members` members "m0":0, "m1":1, …
auto wide_object(std::size_t members) -> std::string {
  std::string line = "{";
  for (std::size_t m = 0; m < members; ++m) line += fmt::format("{}\"m{}\":{}", m == 0 ? "" : ",", m, m);
  return line + "}";
}

template <class T>
void expect_within(const std::vector<pipeline::batch<T>>& all, std::size_t max_batch_bytes) {
  for (const auto& b : all) {
    EXPECT_LE(detail::batch_memory_bytes(b), max_batch_bytes) << "a batch of " << b.records.size() << " records";
    EXPECT_EQ(b.positions.size(), b.records.size());
  }
}

// --- CSV ------------------------------------------------------------------------------------

TEST(csv_limits, rows_of_100k_empty_fields_are_dead_letters_naming_max_fields) {
  const auto all = read_csv(empty_rows(30, 100'000) + "x\n", {.max_batch_bytes = 1 << 20, .has_header = false});
  const auto rejected = file_test::rejected_of(all);
  ASSERT_EQ(rejected.size(), 30u);
  EXPECT_THAT(rejected[0].reason.message,
              ::testing::HasSubstr("in.csv: line 1: the record has more than max_fields (65536) fields"));
  EXPECT_THAT(file_test::records_of(all), ::testing::ElementsAre(record{{"c0", "x"}}));
  EXPECT_GT(all.size(), 2u);  // 100 KB letters: about ten to a 1 MiB batch
  expect_within(all, 1 << 20);
}

TEST(csv_limits, wide_rows_fill_batches_by_memory_not_by_count) {
  const std::size_t budget = 4 << 20;
  const auto all = read_csv(empty_rows(40, 10'000), {.max_batch_bytes = budget, .has_header = false});
  EXPECT_EQ(file_test::records_of(all).size(), 40u);
  EXPECT_TRUE(file_test::rejected_of(all).empty());
  EXPECT_GT(all.size(), 5u);  // about 720 KB a record: five or so to a batch, not 1000
  expect_within(all, budget);
}

TEST(csv_limits, an_empty_field_costs_the_same_small_memory_however_wide_the_row) {
  for (const std::size_t fields : {1'000u, 10'000u, 60'000u}) {
    const auto rows = file_test::records_of(read_csv(empty_rows(1, fields), {.has_header = false}));
    ASSERT_EQ(rows.size(), 1u);
    // One record::entry (a name short enough to live in its string, an empty string value).
    EXPECT_LE(detail::memory_bytes(rows[0]), fields * sizeof(record::entry) + 64) << fields;
  }
}

TEST(csv_limits, each_record_counts_its_own_copy_of_long_header_names) {
  const std::size_t fields = 2'000;
  std::string text;
  for (std::size_t f = 0; f < fields; ++f) text += fmt::format("{}a_column_name_of_{:08}", f == 0 ? "" : ",", f);
  text += "\n" + empty_rows(20, fields);
  const std::size_t budget = 1 << 20;
  const auto all = read_csv(text, {.max_batch_bytes = budget});
  const auto rows = file_test::records_of(all);
  ASSERT_EQ(rows.size(), 20u);
  // Each 25-byte name is a heap block of its own in every record, beside the field itself.
  EXPECT_GE(detail::memory_bytes(rows[0]), fields * (sizeof(record::entry) + 26));
  EXPECT_GT(all.size(), 3u);  // about 200 KB a record: five or so to a 1 MiB batch
  expect_within(all, budget);
}

TEST(csv_limits, a_record_bigger_than_max_batch_bytes_alone_is_a_dead_letter_naming_it) {
  const auto all = read_csv(empty_rows(2, 10'000) + "a\n", {.max_batch_bytes = 100'000, .has_header = false});
  const auto rejected = file_test::rejected_of(all);
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_THAT(rejected[1].reason.message, ::testing::MatchesRegex(".*line 2: the record takes [0-9]+ bytes in memory, "
                                                                   "more than max_batch_bytes \\(100000\\)"));
  EXPECT_EQ(rejected[1].payload, std::string(9'999, ','));
  EXPECT_THAT(file_test::records_of(all), ::testing::ElementsAre(record{{"c0", "a"}}));
}

TEST(csv_limits, max_fields_applies_to_the_header_and_every_row) {
  const auto all = read_csv("a,b\n1,2\n", {.max_fields = 3});
  EXPECT_THAT(file_test::records_of(all), ::testing::ElementsAre(record{{"a", "1"}, {"b", "2"}}));
  const auto rejected = file_test::rejected_of(read_csv("1,2,3\n1,2,3,4\n", {.has_header = false, .max_fields = 3}));
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_THAT(rejected[0].reason.message, ::testing::HasSubstr("line 2: the record has more than max_fields (3)"));
  file_test::scratch_dir dir;
  file_test::write_file(dir / "wide.csv", "a,b,c,d\n1,2,3,4\n");
  file::csv_source src{{.path = dir / "wide.csv", .max_fields = 3}};
  auto next = src.next_batch({});
  ASSERT_FALSE(next);
  EXPECT_THAT(next.error().message, ::testing::HasSubstr("the header row: the record has more than max_fields (3)"));
}

// --- JSONL ----------------------------------------------------------------------------------

TEST(jsonl_limits, an_object_over_max_members_is_a_dead_letter_naming_the_limit) {
  const auto all = read_jsonl(wide_object(70'000) + "\n{\"a\":1}\n", {.max_record_bytes = 2 << 20});
  const auto rejected = file_test::rejected_of(all);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_THAT(rejected[0].reason.message,
              ::testing::HasSubstr("line 1: an object has more than max_members (65536) members"));
  EXPECT_THAT(file_test::records_of(all), ::testing::ElementsAre(record{{"a", 1}}));
}

TEST(jsonl_limits, max_members_applies_to_nested_objects_too) {
  const auto all = read_jsonl("{\"o\":{\"a\":1,\"b\":2,\"c\":3}}\n{\"o\":{\"a\":1,\"b\":2}}\n", {.max_members = 2});
  const auto rejected = file_test::rejected_of(all);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_THAT(rejected[0].reason.message, ::testing::HasSubstr("more than max_members (2) members"));
  EXPECT_THAT(file_test::records_of(all), ::testing::ElementsAre(record{{"o", R"({"a":1,"b":2})"}}));
}

TEST(jsonl_limits, wide_objects_are_read_whole_and_fill_batches_by_memory) {
  const std::size_t budget = 2 << 20;
  std::string text;
  for (int i = 0; i < 20; ++i) text += wide_object(5'000) + "\n";
  const auto all = read_jsonl(text, {.max_batch_bytes = budget});
  const auto rows = file_test::records_of(all);
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(rows[0].size(), 5'000u);
  EXPECT_EQ(*rows[0].find("m4999"), pipeline::value{4999});
  EXPECT_GT(all.size(), 2u);
  expect_within(all, budget);
}

TEST(jsonl_limits, nesting_deeper_than_max_depth_is_a_dead_letter_naming_it) {
  const auto all = read_jsonl("{\"a\":[[1]]}\n{\"a\":[[[1]]]}\n{\"a\":{\"b\":{}}}\n", {.max_depth = 3});
  const auto rejected = file_test::rejected_of(all);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_THAT(rejected[0].reason.message, ::testing::HasSubstr("line 2: JSON nested deeper than 3 levels (max_depth)"));
  EXPECT_THAT(file_test::records_of(all),
              ::testing::ElementsAre(record{{"a", "[[1]]"}}, record{{"a", R"({"b":{}})"}}));
}

TEST(jsonl_limits, a_million_levels_of_nesting_are_read_without_recursion_when_max_depth_allows) {
  const std::string deep = "{\"a\":" + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}";
  const auto all = read_jsonl(deep + "\n{\"a\":1}\n", {.max_record_bytes = 4 << 20, .max_depth = 2'000'000});
  EXPECT_TRUE(file_test::rejected_of(all).empty());
  EXPECT_EQ(file_test::records_of(all).size(), 2u);
}

TEST(jsonl_limits, a_huge_line_is_a_dead_letter_and_the_batch_keeps_only_its_head) {
  const std::string huge = "{\"a\":\"" + std::string(20 << 20, 'x') + "\"}";
  const auto all = read_jsonl(huge + "\n{\"a\":1}\n", {.max_batch_bytes = 2 << 20});
  const auto rejected = file_test::rejected_of(all);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_THAT(rejected[0].reason.message, ::testing::HasSubstr("more than max_record_bytes (1048576)"));
  EXPECT_EQ(rejected[0].payload.size(), 1u << 20);
  expect_within(all, 2 << 20);
}

TEST(jsonl_limits, misuse_at_construction_throws_invalid_argument_naming_the_option) {
  const auto throws_naming = [](file::jsonl_source_options o, std::string_view name) {
    file_test::expect_invalid_argument_naming<file::jsonl_source>(std::move(o), name);
  };
  throws_naming({.path = "x", .max_batch_bytes = 0}, "max_batch_bytes");
  throws_naming({.path = "x", .max_members = 0}, "max_members");
  throws_naming({.path = "x", .max_depth = 0}, "max_depth");
}

// --- dead-letter files -----------------------------------------------------------------------

TEST(batch_memory, a_dead_letter_counts_every_string_it_owns) {
  const std::string big(10'000, 'x');
  const pipeline::dead_letter empty{};
  const auto base = detail::memory_bytes(empty);
  const auto with = [&](auto set) {
    pipeline::dead_letter d{};
    set(d);
    return detail::memory_bytes(d);
  };
  EXPECT_GE(with([&](auto& d) { d.payload = big; }), base + big.size());
  EXPECT_GE(with([&](auto& d) { d.reason.message = big; }), base + big.size());
  EXPECT_GE(with([&](auto& d) { d.reason.backend = big; }), base + big.size());
  EXPECT_GE(with([&](auto& d) { d.pos = pipeline::position{big}; }), base + big.size());
  EXPECT_GE(with([&](auto& d) { d.job = big; }), base + big.size());
}

TEST(dead_letter_file_limits, entries_with_long_jobs_fill_batches_by_memory) {
  file_test::scratch_dir dir;
  std::vector<pipeline::dead_letter> letters(30);
  for (std::size_t i = 0; i < letters.size(); ++i) {
    letters[i].payload = fmt::format("p{}", i);
    letters[i].reason = pipeline::invalid_input_error("bad");
    letters[i].job = std::string(200'000, static_cast<char>('a' + i % 26));
  }
  {
    file::dead_letter_file dlq{dir / "dlq.jsonl"};
    ASSERT_TRUE(dlq.write(std::span{std::as_const(letters)}, {}));
  }
  const std::size_t budget = 1 << 20;
  file::dead_letter_file_source src{{.path = dir / "dlq.jsonl", .max_batch_bytes = budget}};
  const auto all = file_test::drain(src);
  const auto read = file_test::records_of(all);
  ASSERT_EQ(read.size(), letters.size());
  EXPECT_EQ(read.back().job, letters.back().job);
  EXPECT_GT(all.size(), 5u);  // 200 KB a letter: four or so to a 1 MiB batch, not 1000
  expect_within(all, budget);
}

// --- each record's own position --------------------------------------------------------------

// A fresh source sought to each record's position reads that record first, and one sought to
// each rejected entry's position rejects that entry first.
template <class Source, class Options>
void expect_each_position_reads_its_entry(const Options& options) {
  Source first{options};
  const auto all = file_test::drain(first);
  std::size_t records = 0;
  std::size_t rejected = 0;
  for (const auto& b : all) {
    ASSERT_EQ(b.positions.size(), b.records.size());
    for (std::size_t i = 0; i < b.records.size(); ++i, ++records) {
      Source fresh{options};
      ASSERT_TRUE(fresh.seek(b.positions[i]));
      auto next = fresh.next_batch({});
      ASSERT_TRUE(next && *next && !(*next)->records.empty()) << b.positions[i].bytes();
      EXPECT_EQ((*next)->records.front(), b.records[i]);
      EXPECT_EQ((*next)->positions.front(), b.positions[i]);
    }
    for (const auto& letter : b.rejected) {
      ++rejected;
      Source fresh{options};
      ASSERT_TRUE(fresh.seek(letter.pos));
      auto next = fresh.next_batch({});
      ASSERT_TRUE(next && *next && !(*next)->rejected.empty()) << letter.pos.bytes();
      EXPECT_EQ((*next)->rejected.front().payload, letter.payload);
      EXPECT_EQ((*next)->rejected.front().reason.message, letter.reason.message);
    }
  }
  EXPECT_GT(records, 5u);
  EXPECT_GT(rejected, 1u);
}

TEST(csv_positions, seeking_to_a_records_position_reads_that_record_and_a_letters_its_line) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "in.csv", "a,b\n1,2\n\n\"x\ny\",3\nbad\",4\n5,6\r\n7,8,9\n10,11\n12,13\n14,15\n");
  expect_each_position_reads_its_entry<file::csv_source>(
      file::csv_source_options{.path = dir / "in.csv", .batch_size = 3});
}

TEST(jsonl_positions, seeking_to_a_records_position_reads_that_record_and_a_letters_its_line) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "in.jsonl",
                        "{\"i\":1}\n\n{\"i\":2}\r\n{broken\n{\"i\":3}\n{\"n\":1e400}\n{\"i\":4}\n{\"i\":5}\n{\"i\":6}\n");
  expect_each_position_reads_its_entry<file::jsonl_source>(
      file::jsonl_source_options{.path = dir / "in.jsonl", .batch_size = 4});
}

}  // namespace
