#include <pipeline/file/jsonl_sink.hpp>
#include <pipeline/file/jsonl_source.hpp>

#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "file_test_support.hpp"

namespace {

using pipeline::error_kind;
using pipeline::record;
namespace file = pipeline::file;

auto open_sink(file::jsonl_sink_options options) -> file::jsonl_sink {
  auto sink = file::jsonl_sink::open(std::move(options));
  EXPECT_TRUE(sink) << fmt::format("{}", sink.error());
  return std::move(sink).value();
}

auto write(file::jsonl_sink& sink, std::vector<record> records) -> pipeline::result<void> {
  return sink.write(std::span{std::as_const(records)}, {});
}

auto read_back(const std::filesystem::path& path) -> std::vector<record> {
  file::jsonl_source src{{.path = path}};
  const auto batches = file_test::drain(src);
  EXPECT_THAT(file_test::rejected_of(batches), ::testing::IsEmpty());
  return file_test::records_of(batches);
}

TEST(jsonl_sink, writes_one_json_object_a_line_with_fields_in_record_order) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl"});
  ASSERT_TRUE(write(sink, {record{{"z", 1}, {"a", "x\"y"}, {"n", nullptr}, {"b", false}}, record{{"d", 0.5}}}));
  ASSERT_TRUE(sink.flush({}));
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"),
            "{\"z\":1,\"a\":\"x\\\"y\",\"n\":null,\"b\":false}\n{\"d\":0.5}\n");
}

TEST(jsonl_sink, bytes_are_base64_and_timestamps_iso8601_utc_strings) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl"});
  const pipeline::timestamp t{std::chrono::sys_days{std::chrono::year{2024} / 3 / 1} + std::chrono::hours{12} +
                              std::chrono::microseconds{250}};
  ASSERT_TRUE(write(sink, {record{{"b", pipeline::bytes{std::byte{0}, std::byte{0xff}, std::byte{'a'}}}, {"t", t}}}));
  ASSERT_TRUE(sink.flush({}));
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "{\"b\":\"AP9h\",\"t\":\"2024-03-01T12:00:00.000250Z\"}\n");
}

TEST(jsonl_sink, doubles_read_back_as_the_same_double) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl"});
  std::vector<double> values{1.0, 0.1, -0.0, 1e300, 5e-324, std::numeric_limits<double>::max(), 1.0 / 3.0};
  // Subnormals across their range: the source refuses those written with more digits than
  // they keep, never what the sink writes.
  for (std::uint64_t bits = 1; bits < (std::uint64_t{1} << 52); bits = bits * 3 + 1) {
    values.push_back(std::bit_cast<double>(bits));
  }
  std::vector<record> written;
  for (const double d : values) written.push_back(record{{"d", d}});
  ASSERT_TRUE(write(sink, written));
  ASSERT_TRUE(sink.flush({}));
  EXPECT_EQ(read_back(dir / "out.jsonl"), written);
}

TEST(jsonl_sink, a_nan_or_infinity_fails_the_batch_with_invalid_input_and_writes_nothing_of_it) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl", .buffer_bytes = 0});
  ASSERT_TRUE(write(sink, {record{{"ok", 1}}}));
  for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto r = write(sink, {record{{"ok", 2}}, record{{"x", bad}}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, error_kind::invalid_input);
    EXPECT_THAT(r.error().message, ::testing::HasSubstr("record 1 of the batch: field \"x\""));
  }
  ASSERT_TRUE(sink.flush({}));
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "{\"ok\":1}\n");
}

// A record that fails half-way through its fields leaves no bytes of its line behind.
TEST(jsonl_sink, write_each_refuses_the_records_that_do_not_encode_and_writes_the_others) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl", .buffer_bytes = 0});
  const std::vector<record> rows{record{{"ok", 1}}, record{{"ok", 2}, {"x", std::nan("")}}, record{{"ok", 3}},
                                 record{{"ok", 4}, {"s", std::string("\xff")}}};
  auto refused = sink.write_each(std::span{rows}, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  ASSERT_EQ(refused->size(), 2u);
  EXPECT_EQ((*refused)[0].index, 1u);
  EXPECT_EQ((*refused)[0].reason.kind, error_kind::invalid_input);
  EXPECT_THAT((*refused)[0].reason.message, ::testing::HasSubstr("record 1 of the batch: field \"x\""));
  EXPECT_EQ((*refused)[1].index, 3u);
  ASSERT_TRUE(sink.flush({}));
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "{\"ok\":1}\n{\"ok\":3}\n");
}

TEST(jsonl_sink, a_string_or_name_that_is_not_utf8_fails_the_batch_with_invalid_input) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl", .buffer_bytes = 0});
  auto bad_value = write(sink, {record{{"s", "caf\xE9"}}});
  ASSERT_FALSE(bad_value);
  EXPECT_EQ(bad_value.error().kind, error_kind::invalid_input);
  EXPECT_THAT(bad_value.error().message, ::testing::HasSubstr("not UTF-8"));
  auto bad_name = write(sink, {record{{"\xFF", 1}}});
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().kind, error_kind::invalid_input);
  ASSERT_TRUE(sink.flush({}));
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "");
}

TEST(jsonl_sink, nothing_reaches_the_file_until_the_buffer_fills_or_flush) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl", .buffer_bytes = 30});
  ASSERT_TRUE(write(sink, {record{{"a", 1}}}));  // 8 bytes: buffered
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "");
  ASSERT_TRUE(write(sink, {record{{"a", "a longer value"}}}));  // over 30: written out
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "{\"a\":1}\n{\"a\":\"a longer value\"}\n");
  ASSERT_TRUE(write(sink, {record{{"a", 3}}}));
  ASSERT_TRUE(sink.flush({}));
  EXPECT_THAT(read_back(dir / "out.jsonl"), ::testing::SizeIs(3));
}

TEST(jsonl_sink, committed_offset_is_the_files_size_after_the_last_flush) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl", .buffer_bytes = 0});
  EXPECT_EQ(sink.committed_offset(), 0u);
  ASSERT_TRUE(write(sink, {record{{"a", 1}}}));
  EXPECT_EQ(sink.committed_offset(), 0u);  // written, not yet fsynced
  ASSERT_TRUE(sink.flush({}));
  EXPECT_EQ(sink.committed_offset(), 8u);
}

TEST(jsonl_sink, resume_offset_drops_exactly_the_uncommitted_tail) {
  file_test::scratch_dir dir;
  const auto path = dir / "out.jsonl";
  std::uint64_t committed = 0;
  {
    auto sink = open_sink({.path = path, .buffer_bytes = 0});
    ASSERT_TRUE(write(sink, {record{{"batch", 1}}}));
    ASSERT_TRUE(sink.flush({}));
    committed = sink.committed_offset();      // saved with the checkpoint after batch 1
    ASSERT_TRUE(write(sink, {record{{"batch", 2}}}));  // written after that checkpoint
  }
  file_test::write_file(path, file_test::read_file(path) + "{\"batch\":3,\"torn");  // a crash mid-line
  // The restart: cut back to the checkpoint's offset, then batch 2 is written again.
  auto sink = open_sink({.path = path, .buffer_bytes = 0, .resume_offset = committed});
  EXPECT_EQ(sink.committed_offset(), committed);
  EXPECT_EQ(file_test::read_file(path), "{\"batch\":1}\n");
  ASSERT_TRUE(write(sink, {record{{"batch", 2}}}));
  ASSERT_TRUE(sink.flush({}));
  EXPECT_THAT(read_back(path), ::testing::ElementsAre(record{{"batch", 1}}, record{{"batch", 2}}));
}

TEST(jsonl_sink, a_file_shorter_than_resume_offset_is_a_permanent_error) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "out.jsonl", "{\"a\":1}\n");
  auto sink = file::jsonl_sink::open({.path = dir / "out.jsonl", .resume_offset = 100});
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().kind, error_kind::permanent);
  EXPECT_THAT(sink.error().message, ::testing::HasSubstr("shorter than the offset 100"));
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "{\"a\":1}\n");
}

TEST(jsonl_sink, without_resume_offset_writing_appends_to_the_file) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "out.jsonl", "{\"a\":1}\n");
  auto sink = open_sink({.path = dir / "out.jsonl"});
  EXPECT_EQ(sink.committed_offset(), 8u);
  ASSERT_TRUE(write(sink, {record{{"a", 2}}}));
  ASSERT_TRUE(sink.flush({}));
  EXPECT_THAT(read_back(dir / "out.jsonl"), ::testing::ElementsAre(record{{"a", 1}}, record{{"a", 2}}));
}

TEST(jsonl_sink, destroying_the_sink_writes_what_is_buffered) {
  file_test::scratch_dir dir;
  {
    auto sink = open_sink({.path = dir / "out.jsonl"});
    ASSERT_TRUE(write(sink, {record{{"a", 1}}}));
  }
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "{\"a\":1}\n");
}

TEST(jsonl_sink, a_stopped_write_writes_nothing) {
  file_test::scratch_dir dir;
  auto sink = open_sink({.path = dir / "out.jsonl", .buffer_bytes = 0});
  std::stop_source stop;
  stop.request_stop();
  const std::vector<record> one{record{{"a", 1}}};
  auto r = sink.write(std::span{one}, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::stopped);
  ASSERT_TRUE(sink.flush(stop.get_token()));  // a flush on the way out still completes
  EXPECT_EQ(file_test::read_file(dir / "out.jsonl"), "");
}

TEST(jsonl_sink, an_empty_path_throws_invalid_argument) {
  EXPECT_THROW((void)file::jsonl_sink::open({}), std::invalid_argument);
}

TEST(jsonl_sink, a_path_under_a_regular_file_is_a_permanent_enotdir_error) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "plain", "x");
  auto sink = file::jsonl_sink::open({.path = dir / "plain" / "out.jsonl"});
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().kind, error_kind::permanent);
  EXPECT_EQ(sink.error().native_code, ENOTDIR);
  EXPECT_EQ(sink.error().backend, "errno");
}

}  // namespace
