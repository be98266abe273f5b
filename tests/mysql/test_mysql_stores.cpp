// pipeline::mysql's stores beyond their contracts: the DLQ skips a batch dead-lettered again,
// upgrades an older table, and replays against the server.
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/replay.hpp>

#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "mysql/mysql_test_support.hpp"

namespace {

using namespace pipeline::mysql;

auto letter(std::string payload, std::int64_t end, std::uint32_t partition = 0) -> pipeline::dead_letter {
  return pipeline::dead_letter{std::move(payload), pipeline::permanent_error("refused"), 1,
                               pipeline::position::from_integer(end), partition, std::chrono::system_clock::now()};
}

TEST(mysql_dead_letter_table, a_batch_dead_lettered_again_adds_nothing_but_equal_payloads_stay_apart) {
  auto db = mysql_test::open_db();
  const auto table = mysql_test::table_name("dlq");
  mysql_test::dropped_tables cleanup{db, {table}};
  auto dlq = dead_letter_table::open(db, {.table = table}).value();
  const std::vector batch{letter("a", 10), letter("a", 10), letter("b", 10)};
  ASSERT_TRUE(dlq.write(batch, {}));
  ASSERT_TRUE(dlq.write(batch, {}));  // the replay after a crash
  EXPECT_EQ(dlq.read(0, 100).value().size(), 3u);
  // The same payloads at another position, or in another partition, are other entries.
  ASSERT_TRUE(dlq.write(std::vector{letter("a", 11), letter("a", 10, 1)}, {}));
  EXPECT_EQ(dlq.read(0, 100).value().size(), 5u);
}

TEST(mysql_dead_letter_table, a_table_from_before_jobs_gets_the_column_and_its_rows_read_back_with_no_job) {
  auto db = mysql_test::open_db();
  const auto table = mysql_test::table_name("dlq");
  mysql_test::dropped_tables cleanup{db, {table}};
  mysql_test::exec(*db, fmt::format(
      "CREATE TABLE `{}` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `payload` LONGBLOB, "
      "`kind` VARCHAR(32) NOT NULL, `message` BLOB, `native_code` BIGINT NOT NULL, `backend` VARBINARY(64), "
      "`attempts` BIGINT NOT NULL, `position` BLOB, `partition` BIGINT NOT NULL, "
      "`time` DATETIME(6) NOT NULL, `entry` VARBINARY(80) NOT NULL, UNIQUE KEY `entry` (`entry`)) ENGINE=InnoDB",
      table));
  mysql_test::exec(*db, fmt::format("INSERT INTO `{}` VALUES (1, 'old', 'permanent', 'm', 0, '', 1, '', 0, "
                                   "'2024-01-01 00:00:00', 'e')",
                                   table));
  auto dlq = dead_letter_table::open(db, {.table = table}).value();
  auto all = dlq.read(pipeline::dead_letter_filter{}, std::nullopt, 10, {}).value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].letter.payload, "old");
  EXPECT_EQ(all[0].letter.job, "");
  auto l = letter("new", 2);
  l.job = "prices";
  ASSERT_TRUE(dlq.write(std::vector{l}, {}));
  EXPECT_EQ(dlq.read(pipeline::dead_letter_filter{.job = "prices"}, std::nullopt, 10, {}).value().size(), 1u);
}

TEST(mysql_dead_letter_table, a_replay_resolves_what_the_sink_takes_and_keeps_the_rest_with_one_more_attempt) {
  auto db = mysql_test::open_db();
  const auto table = mysql_test::table_name("dlq");
  mysql_test::dropped_tables cleanup{db, {table}};
  auto dlq = dead_letter_table::open(db, {.table = table}).value();
  std::vector<pipeline::dead_letter> letters;
  for (std::int64_t i = 1; i <= 5; ++i) letters.push_back(letter(std::to_string(i), i));
  ASSERT_TRUE(dlq.write(letters, {}));
  pipeline::memory_sink<std::string> sink;
  sink.fail_records([](const std::string& v) -> std::optional<pipeline::error> {
    if (v == "fixed 4") return pipeline::permanent_error("4 is still refused");
    return std::nullopt;
  });
  pipeline::replay_options<std::string> options;
  options.decode = [](std::string_view payload) -> pipeline::result<std::string> { return std::string(payload); };
  options.page_size = 2;
  auto report = pipeline::replay(dlq, {}, [](const std::string& v) { return "fixed " + v; }, sink, options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->read, 5u);
  EXPECT_EQ(report->resolved, 4u);
  EXPECT_EQ(report->failed_again, 1u);
  EXPECT_EQ(sink.records().size(), 4u);
  auto left = dlq.read(pipeline::dead_letter_filter{}, std::nullopt, 10, {}).value();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].letter.payload, "4");
  EXPECT_EQ(left[0].letter.attempts, 2u);
  EXPECT_EQ(left[0].letter.reason.message, "4 is still refused");
}

}  // namespace
