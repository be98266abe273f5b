// jsonl_sink with its batch ledger (exactly-once mode): what a crash leaves in the data file and
// the ledger, and what open makes of it. A crash is modelled by editing the files as a kill -9
// between two writes, or in the middle of one, leaves them.
#include <pipeline/file/jsonl_sink.hpp>
#include <pipeline/file/jsonl_source.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "file_test_support.hpp"

namespace {

using pipeline::committed_batch;
using pipeline::error_kind;
using pipeline::position;
using pipeline::record;
namespace file = pipeline::file;

auto open_sink(const std::filesystem::path& path) -> file::jsonl_sink {
  auto sink = file::jsonl_sink::open({.path = path, .ledger = true});
  EXPECT_TRUE(sink) << fmt::format("{}", sink.error());
  return std::move(sink).value();
}

auto entry(std::uint64_t sequence) -> committed_batch {
  const auto from = static_cast<std::int64_t>(sequence * 10);
  return {"job", 0, 1, sequence, 0, position::from_integer(from), position::from_integer(from + 10)};
}

// Batch `sequence`: records {"n": sequence * 10 + i}, i < 3.
auto batch(std::uint64_t sequence) -> std::vector<record> {
  std::vector<record> out;
  for (std::int64_t i = 0; i < 3; ++i) out.push_back(record{{"n", static_cast<std::int64_t>(sequence) * 10 + i}});
  return out;
}

auto commit(file::jsonl_sink& sink, std::uint64_t sequence) -> pipeline::result<void> {
  const auto records = batch(sequence);
  return sink.write_committed(std::span{records}, entry(sequence), {});
}

// The "n" of each record the file holds, in order.
auto numbers_in(const std::filesystem::path& path) -> std::vector<std::int64_t> {
  file::jsonl_source src{{.path = path}};
  const auto batches = file_test::drain(src);
  EXPECT_THAT(file_test::rejected_of(batches), ::testing::IsEmpty());
  std::vector<std::int64_t> out;
  for (const auto& r : file_test::records_of(batches)) out.push_back(r.find("n")->get<std::int64_t>());
  return out;
}

auto numbers_of_batches(std::uint64_t count) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  for (std::uint64_t s = 0; s < count; ++s) {
    for (const auto& r : batch(s)) out.push_back(r.find("n")->get<std::int64_t>());
  }
  return out;
}

auto sequences(file::jsonl_sink& sink) -> std::vector<std::uint64_t> {
  auto listed = sink.committed_batches("job", {});
  EXPECT_TRUE(listed) << fmt::format("{}", listed.error());
  std::vector<std::uint64_t> out;
  if (listed) {
    for (const auto& e : *listed) out.push_back(e.sequence);
  }
  return out;
}

class jsonl_sink_ledger : public ::testing::Test {
 protected:
  // Two batches committed, the sink closed: the files as a run leaves them.
  void commit_two() {
    auto sink = open_sink(data_);
    ASSERT_TRUE(commit(sink, 0));
    ASSERT_TRUE(commit(sink, 1));
  }

  file_test::scratch_dir dir_;
  std::filesystem::path data_ = dir_ / "out.jsonl";
  std::filesystem::path ledger_ = dir_ / "out.jsonl.ledger";
};

TEST_F(jsonl_sink_ledger, a_commit_writes_the_lines_and_one_ledger_line) {
  commit_two();
  EXPECT_EQ(numbers_in(data_), numbers_of_batches(2));
  const auto ledger = file_test::read_file(ledger_);
  EXPECT_EQ(std::count(ledger.begin(), ledger.end(), '\n'), 3) << ledger;  // the size it started at, two batches
  auto sink = open_sink(data_);
  EXPECT_THAT(sequences(sink), ::testing::ElementsAre(0U, 1U));
  EXPECT_EQ(sink.committed_offset(), std::filesystem::file_size(data_));
}

TEST_F(jsonl_sink_ledger, a_torn_ledger_line_is_ignored_and_its_batch_cut_off_the_data) {
  commit_two();
  // A crash while batch 2 was committed: its lines are in, its ledger line half written.
  const auto size_before = std::filesystem::file_size(data_);
  file_test::write_file(data_, file_test::read_file(data_) + "{\"n\":20}\n{\"n\":21}\n{\"n\":22}\n");
  const auto ledger_before = file_test::read_file(ledger_);
  file_test::write_file(ledger_, ledger_before + "batch 75 0 1 2 0 am9i");
  auto sink = open_sink(data_);
  EXPECT_EQ(std::filesystem::file_size(data_), size_before);
  EXPECT_EQ(numbers_in(data_), numbers_of_batches(2));
  EXPECT_EQ(file_test::read_file(ledger_), ledger_before) << "the torn line is cut off";
  EXPECT_THAT(sequences(sink), ::testing::ElementsAre(0U, 1U));
  // The rerun commits batch 2 once.
  ASSERT_TRUE(commit(sink, 2));
  EXPECT_EQ(numbers_in(data_), numbers_of_batches(3));
}

TEST_F(jsonl_sink_ledger, a_last_line_whose_checksum_does_not_match_is_torn) {
  commit_two();
  const auto ledger_before = file_test::read_file(ledger_);
  // A block the filesystem extended but never filled: zeros, then a newline.
  file_test::write_file(ledger_, ledger_before + std::string(40, '\0') + "\n");
  auto sink = open_sink(data_);
  EXPECT_EQ(file_test::read_file(ledger_), ledger_before);
  EXPECT_THAT(sequences(sink), ::testing::ElementsAre(0U, 1U));
}

TEST_F(jsonl_sink_ledger, data_appended_without_its_ledger_line_is_cut_back_on_open) {
  commit_two();
  const auto size_before = std::filesystem::file_size(data_);
  const auto ledger_before = file_test::read_file(ledger_);
  {
    auto sink = open_sink(data_);
    ASSERT_TRUE(commit(sink, 2));
  }
  // The crash came between the data file's fsync and the ledger line.
  std::filesystem::resize_file(ledger_, ledger_before.size());
  auto sink = open_sink(data_);
  EXPECT_EQ(std::filesystem::file_size(data_), size_before);
  EXPECT_EQ(numbers_in(data_), numbers_of_batches(2));
  EXPECT_THAT(sequences(sink), ::testing::ElementsAre(0U, 1U));
}

TEST_F(jsonl_sink_ledger, an_invalid_line_before_a_valid_one_is_a_permanent_error) {
  commit_two();
  auto text = file_test::read_file(ledger_);
  text[text.find("batch") + 6] ^= 1;  // a flipped bit in the first batch line's size
  file_test::write_file(ledger_, text);
  auto sink = file::jsonl_sink::open({.path = data_, .ledger = true});
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().kind, error_kind::permanent);
  EXPECT_THAT(sink.error().message, ::testing::HasSubstr("is corrupt (line 2"));
  EXPECT_EQ(file_test::read_file(ledger_), text) << "nothing is cut";
}

TEST_F(jsonl_sink_ledger, a_data_file_shorter_than_the_ledger_says_is_a_permanent_error) {
  commit_two();
  std::filesystem::resize_file(data_, 5);
  auto sink = file::jsonl_sink::open({.path = data_, .ledger = true});
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().kind, error_kind::permanent);
  EXPECT_THAT(sink.error().message, ::testing::HasSubstr("truncated or replaced"));
}

TEST_F(jsonl_sink_ledger, forget_keeps_the_committed_size) {
  commit_two();
  {
    auto sink = open_sink(data_);
    ASSERT_TRUE(commit(sink, 2));
    ASSERT_TRUE(sink.forget_batches("job", 1, 2, {}));
    EXPECT_THAT(sequences(sink), ::testing::IsEmpty());
  }
  const auto ledger = file_test::read_file(ledger_);
  EXPECT_EQ(std::count(ledger.begin(), ledger.end(), '\n'), 1) << ledger;
  auto sink = open_sink(data_);
  EXPECT_EQ(numbers_in(data_), numbers_of_batches(3)) << "nothing cut back";
  EXPECT_EQ(sink.committed_offset(), std::filesystem::file_size(data_));
  EXPECT_THAT(sequences(sink), ::testing::IsEmpty());
  ASSERT_TRUE(commit(sink, 3));
  EXPECT_EQ(numbers_in(data_), numbers_of_batches(4));
}

TEST_F(jsonl_sink_ledger, reopening_after_many_batches_keeps_every_entry_not_forgotten) {
  constexpr std::uint64_t batches = 600;
  {
    auto sink = open_sink(data_);
    for (std::uint64_t s = 0; s < batches; ++s) {
      ASSERT_TRUE(commit(sink, s));
      if (s % 50 == 49) {
        ASSERT_TRUE(sink.forget_batches("job", 1, s - 10, {}));  // the checkpoint lags a little
      }
    }
  }
  auto sink = open_sink(data_);
  EXPECT_EQ(numbers_in(data_), numbers_of_batches(batches));
  std::vector<std::uint64_t> left;
  for (std::uint64_t s = batches - 10; s < batches; ++s) left.push_back(s);
  EXPECT_EQ(sequences(sink), left);
  EXPECT_LT(std::filesystem::file_size(ledger_), 20'000U) << "the ledger holds its entries, not the run";
}

TEST_F(jsonl_sink_ledger, jobs_and_positions_of_any_bytes_round_trip) {
  using namespace std::string_literals;
  const auto odd = "a job \n\t with spaces\0and \xff bytes"s;
  const committed_batch e{odd, 7, 3, 4, 5, position{"\0\n \xfe"s}, position{}};
  {
    auto sink = open_sink(data_);
    std::vector<record> none;
    ASSERT_TRUE(sink.write_committed(std::span{none}, e, {}));
  }
  auto sink = open_sink(data_);
  auto listed = sink.committed_batches(odd, {});
  ASSERT_TRUE(listed);
  EXPECT_THAT(*listed, ::testing::ElementsAre(e));
}

TEST_F(jsonl_sink_ledger, a_record_that_does_not_encode_fails_the_commit_and_writes_nothing) {
  auto sink = open_sink(data_);
  std::vector<record> records{record{{"n", 1}}, record{{"n", std::numeric_limits<double>::infinity()}}};
  auto r = sink.write_committed(std::span{records}, entry(0), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::invalid_input);
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("record 1"));
  EXPECT_EQ(std::filesystem::file_size(data_), 0U);
  EXPECT_THAT(sequences(sink), ::testing::IsEmpty());
}

TEST_F(jsonl_sink_ledger, a_file_without_a_ledger_keeps_what_it_holds) {
  file_test::write_file(data_, "{\"n\":-1}\n{\"n\":-2,\"torn");
  {
    auto sink = open_sink(data_);
    ASSERT_TRUE(commit(sink, 0));
  }
  auto sink = open_sink(data_);
  const std::string text = file_test::read_file(data_);
  EXPECT_EQ(text.substr(0, 23), "{\"n\":-1}\n{\"n\":-2,\"torn\n") << "a torn last line is ended, as without a ledger";
  EXPECT_THAT(sequences(sink), ::testing::ElementsAre(0U));
}

TEST_F(jsonl_sink_ledger, flush_commits_plain_writes) {
  {
    auto sink = open_sink(data_);
    ASSERT_TRUE(commit(sink, 0));
    const auto plain = batch(1);
    ASSERT_TRUE(sink.write(std::span{plain}, {}));
    ASSERT_TRUE(sink.flush({}));
    ASSERT_TRUE(commit(sink, 2));
  }
  auto sink = open_sink(data_);
  EXPECT_EQ(numbers_in(data_), numbers_of_batches(3));
  EXPECT_THAT(sequences(sink), ::testing::ElementsAre(0U, 2U));
}

TEST_F(jsonl_sink_ledger, a_sink_opened_without_a_ledger_refuses_the_exactly_once_calls) {
  auto sink = file::jsonl_sink::open({.path = data_}).value();
  EXPECT_FALSE(pipeline::is_transactional(sink));
  EXPECT_TRUE(pipeline::is_transactional(open_sink(dir_ / "other.jsonl")));
  auto r = commit(sink, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::invalid_input);
  EXPECT_FALSE(sink.committed_batches("job", {}));
  EXPECT_FALSE(sink.forget_batches("job", 1, 1, {}));
  EXPECT_FALSE(std::filesystem::exists(ledger_));
}

TEST_F(jsonl_sink_ledger, resume_offset_with_a_ledger_throws_invalid_argument) {
  EXPECT_THROW((void)file::jsonl_sink::open({.path = data_, .resume_offset = 0, .ledger = true}),
               std::invalid_argument);
}

}  // namespace
