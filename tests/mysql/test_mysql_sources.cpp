// pipeline::mysql::keyset_source and cursor_source on MariaDB: the source contract, types,
// composite keys, filters, resuming, concurrent inserts, streaming, and the partition planners.
#include <pipeline/mysql/mysql.hpp>

#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mysql/mysql_test_support.hpp"
#include "support/relational_contracts.hpp"
#include "support/source_reading.hpp"

namespace {

using namespace pipeline::mysql;
using namespace std::chrono_literals;
using pipeline::record;
using pipeline::value;

using pipeline::test::expect_each_own_position_reads_its_record;
using pipeline::test::ids_of;
using pipeline::test::read_all;


class mysql_sources : public ::testing::Test {
 protected:
  void fill(std::int64_t n) {
    mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, grp INT NOT NULL, "
                                       "label VARCHAR(32), joined DATE NOT NULL)",
                                       table_));
    mysql_test::exec(*db_, fmt::format("INSERT INTO `{}` SELECT seq, seq % 3, CONCAT('row-', seq), "
                                       "'2024-01-01' + INTERVAL (seq % 90) DAY FROM seq_1_to_{}",
                                       table_, n));
  }
  std::shared_ptr<database> db_ = mysql_test::open_db();
  std::string table_ = mysql_test::table_name("src");
  mysql_test::dropped_tables cleanup_{db_, {table_}};
};

TEST_F(mysql_sources, column_types_arrive_as_their_value_kinds_through_both_sources) {
  mysql_test::exec(*db_, fmt::format(
      "CREATE TABLE `{}` (id BIGINT PRIMARY KEY, i INT, u BIGINT UNSIGNED, d DOUBLE, dec_ DECIMAL(20,6), "
      "s VARCHAR(100), b BLOB, dt DATETIME(6), ts TIMESTAMP(6) NULL, day DATE, flag TINYINT(1), nul INT, bits BIT(12), "
      "y YEAR)",
      table_));
  mysql_test::exec(*db_, fmt::format(
      "INSERT INTO `{}` VALUES (1, -42, 18446744073709551615, 1.5, 12345678901234.000001, 'héllo', X'00FF10', "
      "'2024-03-01 12:00:00.000250', '2024-03-01 12:00:00', '1999-12-31', 1, NULL, b'101000000001', 2024)",
      table_));
  using namespace std::chrono;
  const record expected{{"id", 1},
                        {"i", -42},
                        {"u", "18446744073709551615"},
                        {"d", 1.5},
                        {"dec_", "12345678901234.000001"},
                        {"s", "héllo"},
                        {"b", pipeline::bytes{std::byte{0}, std::byte{0xff}, std::byte{0x10}}},
                        {"dt", pipeline::timestamp{sys_days{2024y / 3 / 1} + 12h + 250us}},
                        {"ts", pipeline::timestamp{sys_days{2024y / 3 / 1} + 12h}},
                        {"day", pipeline::timestamp{sys_days{1999y / 12 / 31}}},
                        {"flag", 1},
                        {"nul", nullptr},
                        {"bits", 0xA01},
                        {"y", 2024}};
  auto keyset = keyset_source::open(db_, {.table = table_, .key_columns = {"id"}}).value();
  EXPECT_EQ(read_all(keyset), std::vector{expected});
  auto cursor = cursor_source::open(db_, {.query = fmt::format("SELECT * FROM `{}`", table_)}).value();
  EXPECT_EQ(read_all(cursor), std::vector{expected});
}

TEST_F(mysql_sources, values_written_by_the_sink_read_back_equal) {
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, d DOUBLE, s TEXT, b LONGBLOB, "
                                     "t DATETIME(6), n INT)",
                                     table_));
  using namespace std::chrono;
  std::vector<record> rows;
  for (std::int64_t i = 0; i < 50; ++i) {
    pipeline::bytes blob(static_cast<std::size_t>(i * 97), std::byte{static_cast<unsigned char>(i)});
    rows.push_back({{"id", i},
                    {"d", static_cast<double>(i) / 3.0},
                    {"s", std::string(static_cast<std::size_t>(i * 31), 'x') + std::string{"\0end", 4}},
                    {"b", std::move(blob)},
                    {"t", pipeline::timestamp{sys_days{1970y / 1 / 1} + microseconds{i * 1'000'001}}},
                    {"n", i % 2 == 0 ? value{} : value{i}}});
  }
  auto sink = table_sink::open(db_, {.table = table_, .columns = {"id", "d", "s", "b", "t", "n"}}).value();
  ASSERT_TRUE(sink.write(rows, {}));
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"id"}, .batch_size = 7}).value();
  EXPECT_EQ(read_all(src), rows);
}

TEST_F(mysql_sources, a_zero_date_is_rejected_with_its_key_not_dropped) {
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, d DATE)", table_));
  mysql_test::exec(*db_, fmt::format("INSERT INTO `{}` VALUES (1, '2024-01-01'), "
                                     "(2, '0000-00-00'), (3, '2024-01-03')",
                                     table_));
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"id"}}).value();
  auto b = src.next_batch({}).value();
  ASSERT_TRUE(b);
  EXPECT_EQ(ids_of(b->records), (std::vector<std::int64_t>{1, 3}));
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].reason.kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT(b->rejected[0].reason.message, ::testing::HasSubstr("column d"));
}

TEST_F(mysql_sources, keyset_reads_a_composite_key_in_order_and_resumes_after_a_batch) {
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (a INT, b VARCHAR(8), v INT, PRIMARY KEY (a, b))", table_));
  mysql_test::exec(*db_, fmt::format("INSERT INTO `{}` SELECT seq DIV 4, CONCAT('k', seq % 4), seq FROM seq_0_to_39",
                                     table_));
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"a", "b"}, .columns = {"v"}, .batch_size = 6})
                 .value();
  std::vector<pipeline::batch<record>> batches;
  auto all = read_all(src, &batches);
  std::vector<std::int64_t> vs;
  for (const auto& r : all) vs.push_back(r.find("v")->get<std::int64_t>());
  std::vector<std::int64_t> expected(40);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(vs, expected);
  ASSERT_EQ(batches.size(), 7u);
  EXPECT_EQ(all.front(), (record{{"v", 0}, {"a", 0}, {"b", "k0"}}));  // projection, keys added

  // A fresh source seeking to the end of batch 2 reads rows 18 onwards.
  auto resumed = keyset_source::open(db_, {.table = table_, .key_columns = {"a", "b"}, .batch_size = 6}).value();
  ASSERT_TRUE(resumed.seek(batches[2].end));
  auto rest = read_all(resumed);
  ASSERT_EQ(rest.size(), 22u);
  EXPECT_EQ(rest.front().find("v")->get<std::int64_t>(), 18);
  EXPECT_EQ(resumed.seek(pipeline::position{"garbage"}).error().kind, pipeline::error_kind::invalid_input);
}

TEST_F(mysql_sources, keyset_gives_each_record_the_key_before_it_to_seek_to) {
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (a INT, b VARCHAR(8), d DATE, PRIMARY KEY (a, b))", table_));
  mysql_test::exec(*db_, fmt::format("INSERT INTO `{}` SELECT seq DIV 4, CONCAT('k', seq % 4), "
                                     "IF(seq = 9, '0000-00-00', '2024-01-01') FROM seq_0_to_19",
                                     table_));
  const auto open_source = [&] {
    return keyset_source::open(db_, {.table = table_, .key_columns = {"a", "b"}, .batch_size = 6}).value();
  };
  auto src = open_source();
  std::vector<pipeline::batch<record>> batches;
  EXPECT_EQ(read_all(src, &batches).size(), 19u);  // row 9 has a zero date: rejected
  EXPECT_EQ(batches[0].positions[0], pipeline::position{});  // the first row: from the start
  expect_each_own_position_reads_its_record(batches, open_source);
}

TEST_F(mysql_sources, keyset_applies_a_filter_with_bound_parameters) {
  fill(300);
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"id"}, .columns = {"label"},
                                       .filter = "grp = ? AND label <> ?", .filter_parameters = {1, "row-4"},
                                       .batch_size = 16})
                 .value();
  auto ids = ids_of(read_all(src));
  ASSERT_EQ(ids.size(), 99u);
  for (auto id : ids) EXPECT_EQ(id % 3, 1);
  EXPECT_THROW((void)keyset_source::open(db_, {.table = table_, .key_columns = {"id"}, .filter = "grp = ?"}),
               std::invalid_argument);
}

// A writer inserts keys below and above the reader's position while it pages: every row
// that was there before the read is read exactly once, in increasing key order.
TEST_F(mysql_sources, keyset_reads_every_existing_row_once_while_rows_are_inserted) {
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY)", table_));
  mysql_test::exec(*db_, fmt::format("INSERT INTO `{}` SELECT seq * 2 FROM seq_1_to_5000", table_));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    auto db = mysql_test::open_db();
    for (std::int64_t i = 0; !done && i < 5000; i += 7) {
      mysql_test::exec(*db, fmt::format("INSERT INTO `{}` VALUES ({})", table_, 2 * (5000 - i) + 1));
      mysql_test::exec(*db, fmt::format("INSERT INTO `{}` VALUES ({})", table_, 2 * i + 1));
    }
  });
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"id"}, .batch_size = 50}).value();
  auto ids = ids_of(read_all(src));
  done = true;
  writer.join();
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "a row was read twice";
  std::set<std::int64_t> seen(ids.begin(), ids.end());
  for (std::int64_t k = 2; k <= 10000; k += 2) ASSERT_TRUE(seen.contains(k)) << k;
}

TEST_F(mysql_sources, cursor_streams_in_batches_and_seek_skips_rows_handed_out) {
  fill(2500);
  pipeline::test::expect_cursor_reads_in_batches_and_resumes_at_a_count([&](std::size_t batch_size) {
    return cursor_source::open(db_, {.query = fmt::format("SELECT id FROM `{}` ORDER BY id", table_),
                                     .batch_size = batch_size})
        .value();
  });
}

TEST_F(mysql_sources, cursor_gives_each_record_the_count_before_it_to_seek_to) {
  fill(30);
  pipeline::test::expect_each_record_positioned_at_the_count_before_it([&] {
    return cursor_source::open(db_, {.query = fmt::format("SELECT id FROM `{}` ORDER BY id", table_), .batch_size = 7})
        .value();
  });
}

TEST_F(mysql_sources, an_abandoned_cursor_closes_at_once_without_reading_the_rest) {
  fill(200'000);
  const auto start = std::chrono::steady_clock::now();
  {
    auto src = cursor_source::open(db_, {.query = fmt::format("SELECT * FROM `{0}` a JOIN `{0}` b LIMIT 40000000000",
                                                              table_),
                                         .batch_size = 10})
                   .value();
    ASSERT_TRUE(src.next_batch({}).value());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_EQ(query_int64(*db_, "SELECT 1").value().at(0), 1);
}

TEST_F(mysql_sources, a_bad_cursor_query_is_a_permanent_error) {
  auto src = cursor_source::open(db_, {.query = "SELECT * FROM no_such_table_here"}).value();
  auto r = src.next_batch({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(r.error().native_code, 1146);
}

TEST_F(mysql_sources, key_range_partitions_cover_the_table_once) {
  fill(1000);
  auto plan = plan_key_ranges(*db_, table_, "id", 4).value();
  ASSERT_EQ(plan.size(), 4u);
  pipeline::test::expect_ids_split_evenly(pipeline::test::ids_by_partition(plan, [&](const pipeline::partition& p) {
    return keyset_source::open(db_, restrict_to({.table = table_, .key_columns = {"id"}, .batch_size = 100}, p, "id"))
        .value();
  }), 250);
}

TEST_F(mysql_sources, date_partitions_split_users_by_registration_month) {
  fill(900);  // joined: 2024-01-01 + id % 90 days: January, February, March
  auto plan = plan_date_intervals(*db_, table_, "joined", pipeline::interval_unit::month).value();
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].name, "2024-01");
  EXPECT_EQ(plan[2].name, "2024-03");
  const auto parts = pipeline::test::ids_by_partition(plan, [&](const pipeline::partition& p) {
    return keyset_source::open(
               db_, restrict_to({.table = table_, .key_columns = {"id"}, .filter = "grp >= ?", .filter_parameters = {0}},
                                p, "joined"))
        .value();
  });
  EXPECT_EQ(pipeline::test::sizes_of(parts), (std::vector<std::size_t>{310, 290, 300}));  // 31, 29 and 30 days × 10
  auto empty_table = mysql_test::table_name("empty");
  mysql_test::dropped_tables cleanup{db_, {empty_table}};
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY)", empty_table));
  EXPECT_TRUE(plan_key_ranges(*db_, empty_table, "id", 3).value().empty());
}

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(mysql_keyset_source, source_contract,
                               ::testing::Types<pipeline::test::server_keyset_source_factory<mysql_test::server>>);
INSTANTIATE_TYPED_TEST_SUITE_P(mysql_cursor_source, source_contract,
                               ::testing::Types<pipeline::test::server_cursor_source_factory<mysql_test::server>>);
}  // namespace pipeline::testing
