#include <pipeline/file/dead_letter_file.hpp>
#include <pipeline/file/dead_letter_file_source.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "file_test_support.hpp"

namespace {

using pipeline::dead_letter;
using pipeline::error_kind;
using pipeline::position;
namespace file = pipeline::file;
using namespace std::chrono_literals;

auto at(std::chrono::microseconds since_epoch) -> std::chrono::system_clock::time_point {
  return std::chrono::system_clock::time_point{since_epoch};
}

auto letter(std::size_t i) -> dead_letter {
  return dead_letter{"payload " + std::to_string(i),
                     pipeline::error{error_kind::transient, "timeout", 110, "errno"},
                     static_cast<std::uint32_t>(i),
                     position::from_integer(static_cast<std::int64_t>(i)),
                     2,
                     at(1'700'000'000'000'000us + std::chrono::microseconds{i})};
}

auto write(file::dead_letter_file& dlq, std::vector<dead_letter> letters) -> pipeline::result<void> {
  return dlq.write(std::span{std::as_const(letters)}, {});
}

TEST(dead_letter_file, round_trips_every_field_with_binary_payload_and_position) {
  file_test::scratch_dir dir;
  file::dead_letter_file dlq{dir / "dlq.jsonl"};
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  const dead_letter l{every_byte + "\n\"end",
                      pipeline::error{error_kind::invalid_input, "line 3: \"bad\"\nquote", -5, "csv"},
                      7,
                      position{std::string("\0\xff:9", 4)},
                      4'000'000'000u,
                      at(1'790'000'000'123'456us)};
  ASSERT_TRUE(write(dlq, {l, letter(1)}));
  auto back = file::read_dead_letters(dir / "dlq.jsonl");
  ASSERT_TRUE(back) << fmt::format("{}", back.error());
  EXPECT_THAT(*back, ::testing::ElementsAre(l, letter(1)));
}

TEST(dead_letter_file, each_entry_is_one_json_line_with_the_documented_members) {
  file_test::scratch_dir dir;
  file::dead_letter_file dlq{dir / "dlq.jsonl"};
  ASSERT_TRUE(write(dlq, {letter(3)}));
  EXPECT_EQ(file_test::read_file(dir / "dlq.jsonl"),
            R"({"payload":"cGF5bG9hZCAz","kind":"transient","message":"timeout","native_code":110,"backend":"errno",)"
            R"("attempts":3,"position":"Mw==","partition":2,"time":"2023-11-14T22:13:20.000003Z","job":""})"
            "\n");
}

TEST(dead_letter_file, a_line_from_before_jobs_reads_back_with_no_job) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "dlq.jsonl",
                        R"({"payload":"cGF5bG9hZCAz","kind":"transient","message":"timeout","native_code":110,)"
                        R"("backend":"errno","attempts":3,"position":"Mw==","partition":2,)"
                        R"("time":"2023-11-14T22:13:20.000003Z"})"
                        "\n");
  file::dead_letter_file dlq{dir / "dlq.jsonl"};
  auto all = dlq.read({}, std::nullopt, 10, {});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].letter, letter(3));
}

TEST(dead_letter_file, resolved_lines_are_kept_in_the_sidecar_and_a_purge_drops_them_and_numbers_anew) {
  file_test::scratch_dir dir;
  {
    file::dead_letter_file dlq{dir / "dlq.jsonl"};
    ASSERT_TRUE(write(dlq, {letter(0), letter(1), letter(2), letter(3)}));
    const std::vector<std::string> ids{"2"};
    ASSERT_TRUE(dlq.resolve(std::span{ids}, {}));
  }
  EXPECT_EQ(file_test::read_file(dir / "dlq.jsonl.resolved"), "2\n");
  file::dead_letter_file dlq{dir / "dlq.jsonl"};  // a new process sees what was resolved
  auto pending = dlq.read({}, std::nullopt, 10, {}).value();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[1].id, "3");
  auto purged = dlq.purge({.partition = 99u}, {});  // matches nothing, compacts the resolved line
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 0u);
  EXPECT_EQ(file_test::read_file(dir / "dlq.jsonl.resolved"), "");
  auto after = dlq.read({}, std::nullopt, 10, {}).value();
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[1].id, "2");
  EXPECT_EQ(after[1].letter, letter(2));
  ASSERT_TRUE(write(dlq, {letter(2), letter(4)}));  // the rewritten file is appended to; 2 is known
  EXPECT_EQ(dlq.read({}, std::nullopt, 10, {}).value().size(), 4u);
}

TEST(dead_letter_file, a_purge_by_another_process_while_a_writer_is_open_loses_none_of_its_later_letters) {
  file_test::scratch_dir dir;
  file::dead_letter_file writer{dir / "dlq.jsonl"};
  ASSERT_TRUE(write(writer, {letter(0), letter(1), letter(2)}));
  const pid_t purger = ::fork();  // pipeline-admin's dlq purge, beside the running job
  ASSERT_NE(purger, -1);
  if (purger == 0) {
    file::dead_letter_file other{dir / "dlq.jsonl"};
    auto purged = other.purge({.kind = error_kind::transient}, {});
    ::_exit(purged && *purged == 3 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(purger, &status, 0), purger);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The writer's file was renamed over: its next letters go to the new one, and a letter the
  // purge removed can be dead-lettered again.
  ASSERT_TRUE(write(writer, {letter(0), letter(3)}));
  file::dead_letter_file reader{dir / "dlq.jsonl"};
  const auto stored = reader.read({}, std::nullopt, 10, {}).value();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].letter, letter(0));
  EXPECT_EQ(stored[1].letter, letter(3));
}

TEST(dead_letter_file, time_is_kept_to_the_microsecond) {
  file_test::scratch_dir dir;
  file::dead_letter_file dlq{dir / "dlq.jsonl"};
  auto l = letter(0);
  l.time = at(1'700'000'000'000'001us) + std::chrono::nanoseconds{999};
  ASSERT_TRUE(write(dlq, {l}));
  EXPECT_EQ(file::read_dead_letters(dir / "dlq.jsonl")->front().time, at(1'700'000'000'000'001us));
}

TEST(dead_letter_file, message_bytes_that_are_not_utf8_are_written_as_replacement_characters) {
  file_test::scratch_dir dir;
  file::dead_letter_file dlq{dir / "dlq.jsonl"};
  auto l = letter(0);
  l.reason.message = "bad \xFF byte";
  ASSERT_TRUE(write(dlq, {l}));
  EXPECT_EQ(file::read_dead_letters(dir / "dlq.jsonl")->front().reason.message, "bad \xEF\xBF\xBD byte");
}

TEST(dead_letter_file, writes_append_to_an_existing_file) {
  file_test::scratch_dir dir;
  ASSERT_TRUE(write(*std::make_unique<file::dead_letter_file>(dir / "dlq.jsonl"), {letter(0)}));
  file::dead_letter_file again{dir / "dlq.jsonl"};
  ASSERT_TRUE(write(again, {letter(1)}));
  EXPECT_THAT(*file::read_dead_letters(dir / "dlq.jsonl"), ::testing::ElementsAre(letter(0), letter(1)));
}

// A process that restarts and dead-letters its batch again appends nothing the file holds.
TEST(dead_letter_file, a_new_writer_over_a_file_does_not_append_the_letters_it_holds) {
  file_test::scratch_dir dir;
  auto twice = letter(3);
  ASSERT_TRUE(write(*std::make_unique<file::dead_letter_file>(dir / "dlq.jsonl"), {letter(0), twice, twice}));
  file::dead_letter_file again{dir / "dlq.jsonl"};
  auto later = letter(0);
  later.time += 1h;
  ASSERT_TRUE(write(again, {later, twice, twice, letter(1)}));
  ASSERT_TRUE(write(again, {letter(1)}));
  EXPECT_THAT(*file::read_dead_letters(dir / "dlq.jsonl"), ::testing::ElementsAre(letter(0), twice, twice, letter(1)));
}

TEST(dead_letter_file, a_stopped_write_writes_nothing) {
  file_test::scratch_dir dir;
  file::dead_letter_file dlq{dir / "dlq.jsonl"};
  std::stop_source stop;
  stop.request_stop();
  const std::vector<dead_letter> one{letter(0)};
  auto r = dlq.write(std::span{one}, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::stopped);
  EXPECT_FALSE(std::filesystem::exists(dir / "dlq.jsonl"));
}

TEST(dead_letter_file, a_path_under_a_regular_file_is_a_permanent_enotdir_error) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "plain", "x");
  file::dead_letter_file dlq{dir / "plain" / "dlq.jsonl"};
  auto r = write(dlq, {letter(0)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::permanent);
  EXPECT_EQ(r.error().native_code, ENOTDIR);
}

TEST(dead_letter_file, an_empty_path_throws_invalid_argument) {
  EXPECT_THROW(file::dead_letter_file{""}, std::invalid_argument);
}

TEST(dead_letter_file_source, reads_entries_in_batches_and_resumes_after_each) {
  file_test::scratch_dir dir;
  file::dead_letter_file dlq{dir / "dlq.jsonl"};
  std::vector<dead_letter> written;
  for (std::size_t i = 0; i < 10; ++i) written.push_back(letter(i));
  ASSERT_TRUE(write(dlq, written));
  file::dead_letter_file_source_options options{.path = dir / "dlq.jsonl", .batch_size = 3};
  file::dead_letter_file_source src{options};
  const auto batches = file_test::drain(src);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(file_test::records_of(batches), written);
  for (std::size_t k = 0; k < batches.size(); ++k) {
    file::dead_letter_file_source resumed{options};
    ASSERT_TRUE(resumed.seek(batches[k].end));
    EXPECT_EQ(file_test::records_of(file_test::drain(resumed)),
              std::vector(written.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(3 * (k + 1), 10)),
                          written.end()));
  }
}

TEST(dead_letter_file_source, a_torn_or_foreign_line_is_rejected_and_reading_goes_on) {
  file_test::scratch_dir dir;
  {
    file::dead_letter_file dlq{dir / "dlq.jsonl"};
    ASSERT_TRUE(write(dlq, {letter(0)}));
  }
  file_test::write_file(dir / "dlq.jsonl",
                        file_test::read_file(dir / "dlq.jsonl") + "{\"payload\":\"eA==\",\"kind\":\"odd\"}\n{\"torn");
  {
    file::dead_letter_file dlq{dir / "dlq.jsonl"};
    ASSERT_TRUE(write(dlq, {letter(1)}));  // the torn line is ended first: this entry stays whole
  }
  file::dead_letter_file_source src{{.path = dir / "dlq.jsonl"}};
  const auto batches = file_test::drain(src);
  EXPECT_THAT(file_test::records_of(batches), ::testing::ElementsAre(letter(0), letter(1)));
  const auto rejected = file_test::rejected_of(batches);
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_THAT(rejected[0].reason.message, ::testing::HasSubstr("line 2: dead letter: member \"kind\""));
  EXPECT_THAT(rejected[1].reason.message, ::testing::HasSubstr("line 3: dead letter: not JSON"));
  auto strict = file::read_dead_letters(dir / "dlq.jsonl");
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().kind, error_kind::invalid_input);
}

TEST(dead_letter_file_source, a_nested_or_wide_line_is_rejected_naming_the_limit_and_reading_goes_on) {
  file_test::scratch_dir dir;
  std::string wide = "{";
  for (int m = 0; m < 100; ++m) wide += fmt::format("{}\"m{}\":0", m == 0 ? "" : ",", m);
  wide += "}\n";
  file_test::write_file(dir / "dlq.jsonl", "{\"payload\":[[[[\"eA==\"]]]]}\n" + wide);
  {
    file::dead_letter_file dlq{dir / "dlq.jsonl"};
    ASSERT_TRUE(write(dlq, {letter(0)}));
  }
  file::dead_letter_file_source src{{.path = dir / "dlq.jsonl"}};
  const auto batches = file_test::drain(src);
  EXPECT_THAT(file_test::records_of(batches), ::testing::ElementsAre(letter(0)));
  const auto rejected = file_test::rejected_of(batches);
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_THAT(rejected[0].reason.message, ::testing::HasSubstr("line 1: dead letter: JSON nested deeper than 1 levels"));
  EXPECT_THAT(rejected[1].reason.message,
              ::testing::HasSubstr("line 2: dead letter: an object has more than max_members (64) members"));
}

}  // namespace
