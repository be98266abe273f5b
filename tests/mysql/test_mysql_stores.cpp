// pipeline::mysql's stores beyond their contracts: the DLQ skips a batch dead-lettered again.
#include <pipeline/mysql/mysql.hpp>

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

}  // namespace
