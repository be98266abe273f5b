// Exactly-once mode of pipeline::run into a JSONL file (jsonl_sink with its batch ledger), the
// checkpoint and the DLQ in files beside it: runs stopped or crashed (tests/support/crash_point.hpp)
// at chosen moments are rerun, with the same or other batch sizes and worker counts; at the end
// every good record is in the file once and every bad one in the DLQ once.
#include <pipeline/file/file.hpp>
#include <pipeline/runner.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "file_test_support.hpp"
#include "support/crash_point.hpp"

namespace {

using pipeline::record;
namespace file = pipeline::file;

constexpr std::int64_t record_count = 3000;

auto malformed(std::int64_t id) -> bool { return id % 97 == 96; }  // the transform dead-letters it
auto unencodable(std::int64_t id) -> bool { return id % 101 == 100; }  // a NaN: the sink refuses its batch

auto records() -> std::vector<record> {
  std::vector<record> out;
  for (std::int64_t id = 0; id < record_count; ++id) {
    const double ratio = unencodable(id) ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(id) / 8;
    out.push_back({{"id", id}, {"ratio", ratio}, {"note", fmt::format("record {}", id)}});
  }
  return out;
}

// Dead-letters the malformed records, and holds some a little so that other workers commit the
// batches after theirs first (a stop or a crash then leaves batches above the checkpoint).
auto checked(const record& r) -> pipeline::result<record> {
  const auto id = r.find("id")->get<std::int64_t>();
  if (malformed(id)) return pipeline::invalid_input_error("malformed record");
  if (id % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds{500});
  return r;
}

class jsonl_exactly_once : public ::testing::Test {
 protected:
  using attempt = test_support::crash_attempt;

  // One process's run: the sink opened anew, as a restarted process opens it.
  auto run(const attempt& a, std::stop_token stop = {}) -> pipeline::run_report {
    auto opened = file::jsonl_sink::open({.path = data_, .ledger = true});
    EXPECT_TRUE(opened) << fmt::format("{}", opened.error());
    if (!opened) return {};
    file::checkpoint_store checkpoints{dir_ / "checkpoints"};
    file::dead_letter_file letters{dir_ / "dlq.jsonl"};
    return test_support::run_until_crash(a, records(), checked, *opened, checkpoints, letters, "records", stop);
  }

  // Set equality: each good id once in the file, each bad one once in the DLQ, the ledger empty.
  void expect_exactly_once() {
    file::jsonl_source src{{.path = data_}};
    const auto batches = file_test::drain(src);
    EXPECT_THAT(file_test::rejected_of(batches), ::testing::IsEmpty());
    std::vector<std::int64_t> ids;
    for (const auto& r : file_test::records_of(batches)) ids.push_back(r.find("id")->get<std::int64_t>());
    std::sort(ids.begin(), ids.end());
    std::vector<std::int64_t> good;
    std::vector<std::int64_t> bad;
    for (std::int64_t id = 0; id < record_count; ++id) (malformed(id) || unencodable(id) ? bad : good).push_back(id);
    EXPECT_EQ(ids, good);

    auto letters = file::read_dead_letters(dir_ / "dlq.jsonl");
    ASSERT_TRUE(letters) << fmt::format("{}", letters.error());
    std::vector<std::int64_t> lettered;
    for (const auto& letter : *letters) lettered.push_back(letter.pos.to_integer().value_or(-1));
    std::sort(lettered.begin(), lettered.end());
    EXPECT_EQ(lettered, bad);

    auto sink = file::jsonl_sink::open({.path = data_, .ledger = true}).value();
    EXPECT_THAT(sink.committed_batches("records", {}).value(), ::testing::IsEmpty()) << "the ledger is forgotten";
  }

  file_test::scratch_dir dir_;
  std::filesystem::path data_ = dir_ / "records.jsonl";
};

TEST_F(jsonl_exactly_once, a_stop_mid_run_then_a_rerun_write_each_record_once) {
  using std::chrono::milliseconds;
  for (const auto after : {milliseconds{30}, milliseconds{80}, milliseconds{5}}) {
    const auto report =
        test_support::run_stopped_after(after, [&](std::stop_token stop) { return run({16, 4, -1}, stop); });
    ASSERT_NE(report.status, pipeline::run_status::failed) << (report.failure ? report.failure->message : "");
  }
  const auto last = run({16, 4, -1});
  ASSERT_EQ(last.status, pipeline::run_status::completed) << (last.failure ? last.failure->message : "");
  expect_exactly_once();
}

TEST_F(jsonl_exactly_once, crashes_then_reruns_with_other_batch_sizes_and_workers_write_each_record_once) {
  std::uint64_t skipped = 0;
  for (const auto& a : std::vector<attempt>{{16, 4, 30}, {7, 2, 60}, {40, 3, 10}, {16, 4, 40}, {23, 4, 20}}) {
    const auto report = run(a);
    ASSERT_EQ(report.status, pipeline::run_status::failed) << "the crash came before the end";
    skipped += report.skipped;
  }
  const auto last = run({11, 4, -1});
  ASSERT_EQ(last.status, pipeline::run_status::completed) << (last.failure ? last.failure->message : "");
  skipped += last.skipped;
  expect_exactly_once();
  EXPECT_GT(skipped, 0U) << "the crashes left committed batches above the checkpoint";
}

}  // namespace
