// pipeline::mysql::table_sink on MariaDB: modes, array-bound chunks, refused rows with the
// server's code, and the write that commits a checkpoint with its rows.
#include <pipeline/mysql/mysql.hpp>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mysql/mysql_test_support.hpp"

namespace {

using namespace pipeline::mysql;
using pipeline::record;
using ::testing::HasSubstr;

class mysql_table_sink : public ::testing::Test {
 protected:
  void SetUp() override {
    cleanup_.names = {table_, checkpoints_};
    mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, name VARCHAR(8) NOT NULL, "
                                       "n INT, hits BIGINT NOT NULL DEFAULT 0)",
                                       table_));
  }
  auto open(table_sink_options options) -> table_sink {
    options.table = table_;
    options.checkpoint_table = checkpoints_;
    if (options.columns.empty()) options.columns = {"id", "name", "n", "hits"};
    return table_sink::open(db_, options).value();
  }
  auto stored() -> std::vector<record> {
    return mysql_test::rows(db_, fmt::format("SELECT id, name, n, hits FROM `{}` ORDER BY id", table_));
  }
  static auto row(std::int64_t id, std::string name, pipeline::value n = 1, std::int64_t hits = 1) -> record {
    return {{"id", id}, {"name", std::move(name)}, {"n", std::move(n)}, {"hits", hits}};
  }

  std::shared_ptr<database> db_ = mysql_test::open_db();
  std::string table_ = mysql_test::table_name("sink");
  std::string checkpoints_ = mysql_test::table_name("cp");
  mysql_test::dropped_tables cleanup_{db_, {}};
};

TEST_F(mysql_table_sink, upsert_replaces_update_columns_and_adds_add_columns) {
  auto sink = open({.mode = write_mode::upsert, .update_columns = {"name", "n"}, .add_columns = {"hits"}});
  ASSERT_TRUE(sink.write(std::vector{row(1, "a", 10, 1), row(2, "b", 20, 5)}, {}));
  ASSERT_TRUE(sink.write(std::vector{row(1, "A", 11, 2), row(3, "c", 30, 1)}, {}));
  EXPECT_EQ(stored(), (std::vector{row(1, "A", 11, 3), row(2, "b", 20, 5), row(3, "c", 30, 1)}));
}

TEST_F(mysql_table_sink, upsert_without_update_columns_keeps_the_first_row) {
  auto sink = open({.mode = write_mode::upsert});
  ASSERT_TRUE(sink.write(std::vector{row(1, "first")}, {}));
  ASSERT_TRUE(sink.write(std::vector{row(1, "second")}, {}));
  EXPECT_EQ(stored(), std::vector{row(1, "first")});
}

TEST_F(mysql_table_sink, insert_ignore_skips_keys_already_there) {
  auto sink = open({.mode = write_mode::insert_ignore});
  ASSERT_TRUE(sink.write(std::vector{row(1, "a"), row(2, "b")}, {}));
  ASSERT_TRUE(sink.write(std::vector{row(2, "B"), row(3, "c"), row(3, "C")}, {}));
  EXPECT_EQ(stored(), (std::vector{row(1, "a"), row(2, "b"), row(3, "c")}));
}

TEST_F(mysql_table_sink, a_batch_larger_than_one_statement_is_sent_in_chunks) {
  auto sink = open({.rows_per_statement = 7});
  std::vector<record> rows;
  for (std::int64_t i = 0; i < 100; ++i) rows.push_back(row(i, fmt::format("r{}", i), i % 3 == 0 ? pipeline::value{} : pipeline::value{i}));
  ASSERT_TRUE(sink.write(rows, {}));
  EXPECT_EQ(stored(), rows);
}

TEST_F(mysql_table_sink, a_column_of_mixed_kinds_is_sent_as_text_the_server_converts) {
  auto sink = open({});
  ASSERT_TRUE(sink.write(std::vector{row(1, "a", 5), row(2, "b", "6"), row(3, "c", true)}, {}));
  EXPECT_EQ(stored(), (std::vector{row(1, "a", 5), row(2, "b", 6), row(3, "c", 1)}));
}

// Each refused row: permanent, the server's code and message kept, and nothing of its batch
// stored (the batch is one transaction).
TEST_F(mysql_table_sink, refused_rows_are_permanent_with_the_server_code_and_roll_the_batch_back) {
  auto sink = open({});
  ASSERT_TRUE(sink.write(std::vector{row(1, "there")}, {}));
  struct refusal {
    record bad;
    std::int64_t code;
    std::string text;
  };
  const std::vector<refusal> cases{
      {row(1, "dup"), 1062, "Duplicate entry"},
      {row(5, "much too long"), 1406, "Data too long"},
      {row(6, "x", "abc"), 1366, "Incorrect integer value"},
      {row(7, "x", std::int64_t{1} << 40), 1264, "Out of range"},
      {record{{"id", 8}, {"name", nullptr}, {"n", 1}, {"hits", 0}}, 1048, "cannot be null"},
  };
  for (const auto& c : cases) {
    auto r = sink.write(std::vector{row(100, "good"), c.bad}, {});
    ASSERT_FALSE(r) << fmt::format("{}", c.bad);
    EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent) << fmt::format("{}", r.error());
    EXPECT_EQ(r.error().native_code, c.code) << fmt::format("{}", r.error());
    EXPECT_EQ(r.error().backend, "mysql");
    EXPECT_THAT(r.error().message, HasSubstr(c.text));
  }
  EXPECT_EQ(stored(), std::vector{row(1, "there")});
}

// A latin1 column: a batch of ASCII text is bound as bytes (the same bytes in latin1, so the
// server skips its conversion from utf8mb4), other text as utf8mb4 for the server to convert;
// either way the column holds latin1, and refuses what it refused before.
TEST_F(mysql_table_sink, text_into_a_latin1_column_is_stored_in_latin1_whether_ascii_or_not) {
  const auto table = mysql_test::table_name("latin1");
  cleanup_.names.push_back(table);
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, "
                                     "name VARCHAR(4) CHARACTER SET latin1 NOT NULL)",
                                     table));
  auto sink = table_sink::open(db_, {.table = table, .columns = {"id", "name"}}).value();
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 1}, {"name", "abc"}}, {{"id", 2}, {"name", "ta\tb"}}}, {}));
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 3}, {"name", "\xc3\xa9t\xc3\xa9"}}, {{"id", 4}, {"name", "x"}}}, {}));
  EXPECT_EQ(mysql_test::rows(db_, fmt::format("SELECT id, HEX(name) AS hex FROM `{}` ORDER BY id", table)),
            (std::vector<record>{{{"id", 1}, {"hex", "616263"}},
                                 {{"id", 2}, {"hex", "74610962"}},
                                 {{"id", 3}, {"hex", "E974E9"}},
                                 {{"id", 4}, {"hex", "78"}}}));

  auto too_long = sink.write(std::vector<record>{{{"id", 5}, {"name", "abcde"}}, {{"id", 6}, {"name", "a"}}}, {});
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().native_code, 1406);
  auto not_latin1 = sink.write(std::vector<record>{{{"id", 7}, {"name", "\xe4\xb8\xad"}}}, {});  // not in latin1
  ASSERT_FALSE(not_latin1);
  EXPECT_EQ(not_latin1.error().native_code, 1366);
}

TEST_F(mysql_table_sink, values_mysql_cannot_hold_are_invalid_input_before_sending) {
  auto sink = open({});
  auto nan = sink.write(std::vector{row(1, "a", std::numeric_limits<double>::quiet_NaN())}, {});
  ASSERT_FALSE(nan);
  EXPECT_EQ(nan.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT(nan.error().message, HasSubstr("\"n\""));
}

TEST_F(mysql_table_sink, a_stop_requested_before_a_write_stores_nothing) {
  auto sink = open({});
  std::stop_source stop;
  stop.request_stop();
  auto r = sink.write(std::vector{row(1, "a")}, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::stopped);
  EXPECT_TRUE(stored().empty());
}

TEST_F(mysql_table_sink, write_with_checkpoint_commits_rows_and_checkpoint_together) {
  auto sink = open({.mode = write_mode::upsert, .add_columns = {"hits"}});
  auto store = checkpoint_store::open(db_, {.table = checkpoints_}).value();
  const auto p1 = pipeline::position::from_integer(1);
  const auto p2 = pipeline::position::from_integer(2);
  EXPECT_EQ(sink.write_with_checkpoint(std::vector{row(1, "a")}, "job", p1, 0, {}).value(), 1u);
  EXPECT_EQ(store.load("job").value(), (pipeline::checkpoint{p1, 1}));

  // A stale version: conflict, and the rows are not written (no double count).
  auto stale = sink.write_with_checkpoint(std::vector{row(1, "a")}, "job", p2, 0, {});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, pipeline::error_kind::conflict);
  EXPECT_EQ(stored(), std::vector{row(1, "a", 1, 1)});

  // A refused row: the checkpoint stays where it was.
  auto refused = sink.write_with_checkpoint(std::vector{row(2, "b"), row(3, "much too long")}, "job", p2, 1, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().native_code, 1406);
  EXPECT_EQ(store.load("job").value(), (pipeline::checkpoint{p1, 1}));
  EXPECT_EQ(stored(), std::vector{row(1, "a", 1, 1)});

  EXPECT_EQ(sink.write_with_checkpoint(std::vector{row(1, "a"), row(2, "b")}, "job", p2, 1, {}).value(), 2u);
  EXPECT_EQ(store.load("job").value(), (pipeline::checkpoint{p2, 2}));
  EXPECT_EQ(stored(), (std::vector{row(1, "a", 1, 2), row(2, "b", 1, 1)}));
}

// What a retry after a COMMIT whose reply was lost does: the same call again finds its own
// checkpoint stored and returns its version without writing the rows a second time.
TEST_F(mysql_table_sink, write_with_checkpoint_repeated_after_it_landed_does_not_write_twice) {
  auto sink = open({.mode = write_mode::upsert, .add_columns = {"hits"}});
  const auto p1 = pipeline::position::from_integer(1);
  EXPECT_EQ(sink.write_with_checkpoint(std::vector{row(1, "a")}, "job", p1, 0, {}).value(), 1u);
  EXPECT_EQ(sink.write_with_checkpoint(std::vector{row(1, "a")}, "job", p1, 0, {}).value(), 1u);
  EXPECT_EQ(stored(), std::vector{row(1, "a", 1, 1)});
  // Another position at that version is still a conflict.
  auto other = sink.write_with_checkpoint(std::vector{row(1, "a")}, "job", pipeline::position::from_integer(9), 0, {});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, pipeline::error_kind::conflict);
}

// create_table on a table that is not there: the types given, the defaults for the rest, the
// key columns as PRIMARY KEY, and an upsert that works on it at once.
TEST(mysql_table_sink_create_table, makes_a_missing_table_with_the_given_types_and_key) {
  auto db = mysql_test::open_db();
  const auto table = mysql_test::table_name("made");
  const auto checkpoints = mysql_test::table_name("cp");
  mysql_test::dropped_tables cleanup{db, {table, checkpoints}};
  auto sink = table_sink::open(db, {.table = table,
                                    .columns = {"id", "name", "raw"},
                                    .mode = write_mode::upsert,
                                    .key_columns = {"id"},
                                    .update_columns = {"name"},
                                    .checkpoint_table = checkpoints,
                                    .create_table = true,
                                    .column_types = {{"id", "BIGINT"}, {"name", "VARCHAR(8) NOT NULL"}}})
                  .value();
  EXPECT_EQ(mysql_test::rows(db, fmt::format("SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS "
                                             "nullable, COLUMN_KEY AS k FROM information_schema.COLUMNS WHERE "
                                             "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{}' ORDER BY ORDINAL_POSITION",
                                             table)),
            (std::vector<record>{{{"name", "id"}, {"type", "bigint(20)"}, {"nullable", "NO"}, {"k", "PRI"}},
                                 {{"name", "name"}, {"type", "varchar(8)"}, {"nullable", "NO"}, {"k", ""}},
                                 {{"name", "raw"}, {"type", "longblob"}, {"nullable", "YES"}, {"k", ""}}}));
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 1}, {"name", "a"}, {"raw", "x"}}}, {}));
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 1}, {"name", "b"}, {"raw", "y"}}}, {}));
  const auto x = pipeline::bytes{std::byte{'x'}};
  EXPECT_EQ(mysql_test::rows(db, fmt::format("SELECT id, name, raw FROM `{}`", table)),
            (std::vector<record>{{{"id", 1}, {"name", "b"}, {"raw", x}}}));
}

TEST(mysql_table_sink_create_table, leaves_a_table_that_exists_as_it_is_and_checks_types_first) {
  auto db = mysql_test::open_db();
  const auto table = mysql_test::table_name("kept");
  mysql_test::dropped_tables cleanup{db, {table}};
  mysql_test::exec(*db, fmt::format("CREATE TABLE `{}` (id INT, extra VARCHAR(4) DEFAULT 'x')", table));
  auto sink =
      table_sink::open(db, {.table = table, .columns = {"id"}, .create_table = true, .column_types = {{"id", "TEXT"}}})
          .value();
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 7}}}, {}));
  EXPECT_EQ(mysql_test::rows(db, fmt::format("SELECT id, extra FROM `{}`", table)),
            (std::vector<record>{{{"id", 7}, {"extra", "x"}}}));
  EXPECT_THROW((void)table_sink::open(db, {.table = table, .columns = {"id"}, .create_table = true,
                                           .column_types = {{"id", "INT); DROP TABLE x; --"}}}),
               std::invalid_argument);
}

TEST_F(mysql_table_sink, open_checks_its_options_before_sending_sql) {
  EXPECT_THROW((void)open({.columns = {"id", "id"}}), std::invalid_argument);
  EXPECT_THROW((void)open({.mode = write_mode::insert, .update_columns = {"name"}}), std::invalid_argument);
  EXPECT_THROW((void)open({.mode = write_mode::upsert, .update_columns = {"nope"}}), std::invalid_argument);
  EXPECT_THROW((void)open({.mode = write_mode::upsert, .update_columns = {"n"}, .add_columns = {"n"}}),
               std::invalid_argument);
  EXPECT_THROW((void)open({.rows_per_statement = 0}), std::invalid_argument);
  EXPECT_THROW((void)table_sink::open(nullptr, {.table = "t", .columns = {"id"}}), std::invalid_argument);
  auto missing = table_sink::open(db_, {.table = table_, .columns = {"id", "no_such_column"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().native_code, 1054);
}

}  // namespace
