// pipeline::mysql::table_sink on MariaDB: modes, array-bound chunks, refused rows with the
// server's code, and the write that commits a checkpoint with its rows.
#include <pipeline/mysql/mysql.hpp>

#include <string>
#include <string_view>
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

  // A counter of the server's, over every session (`name` upper case).
  auto status(std::string_view name) -> std::int64_t {
    return query_int64(*db_, fmt::format("SELECT CAST(VARIABLE_VALUE AS SIGNED) FROM information_schema.GLOBAL_STATUS "
                                         "WHERE VARIABLE_NAME = '{}'",
                                         name))
        .value()
        .at(0)
        .value();
  }
  // LOAD DATA statements run, and loads undone (sent again by binding): whether the sink
  // loaded its rows.
  auto loads() -> std::int64_t { return status("COM_LOAD"); }
  auto undone() -> std::int64_t { return status("COM_ROLLBACK_TO_SAVEPOINT"); }

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

// A plain INSERT is sent as LOAD DATA LOCAL INFILE from memory: every value must come back
// as binding would have stored it, whatever escapes, NULLs or bytes it holds.
TEST_F(mysql_table_sink, a_plain_insert_is_loaded_keeping_nulls_escapes_text_and_bytes_as_they_are) {
  const auto table = mysql_test::table_name("load");
  cleanup_.names.push_back(table);
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, t TEXT CHARACTER SET utf8mb4, "
                                     "b BLOB, d DOUBLE, at DATETIME(6), f TINYINT)",
                                     table));
  pipeline::bytes every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<std::byte>(i));
  const pipeline::timestamp at{std::chrono::microseconds{1'700'000'000'123'456}};
  const std::vector<record> rows{
      {{"id", 1}, {"t", "tab\there\nnewline\\back\\N \\t\r"}, {"b", every_byte}, {"d", 0.1}, {"at", at},
       {"f", true}},
      {{"id", 2}, {"t", "\\N"}, {"b", pipeline::bytes{}}, {"d", -1e300}, {"at", nullptr}, {"f", false}},
      {{"id", 3}, {"t", ""}, {"b", nullptr}, {"d", nullptr}, {"at", at}, {"f", nullptr}},
      {{"id", 4}, {"t", std::string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 and a NUL: \0 .", 24)}},
      // The fields in another order than the columns.
      {{"f", 7}, {"d", 2.5}, {"t", "N"}, {"id", 5}},
  };
  auto sink = table_sink::open(db_, {.table = table, .columns = {"id", "t", "b", "d", "at", "f"}}).value();
  const auto before = loads();
  const auto undone_before = undone();
  ASSERT_TRUE(sink.write(rows, {}));
  EXPECT_GT(loads(), before);
  EXPECT_EQ(undone(), undone_before);

  const auto stored = mysql_test::rows(db_, fmt::format("SELECT id, t, b, d, at, f FROM `{}` ORDER BY id", table));
  ASSERT_EQ(stored.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (const auto& name : {"t", "b", "d", "at"}) {
      const auto* sent = rows[i].find(name);
      const auto* back = stored[i].find(name);
      ASSERT_NE(back, nullptr);
      if (sent == nullptr || sent->is_null()) {
        EXPECT_TRUE(back->is_null()) << "row " << i << " " << name << ": " << fmt::format("{}", *back);
      } else {
        EXPECT_EQ(*back, *sent) << "row " << i << " " << name;
      }
    }
  }
  EXPECT_EQ(query_int64(*db_, fmt::format("SELECT SUM(f) FROM `{}` WHERE id IN (1, 5)", table)).value().at(0), 8);
}

// With LOCAL the server would skip a duplicate and cut a long value with a warning; the sink
// sees the warning and sends the batch again by binding, so the error is the INSERT's.
TEST_F(mysql_table_sink, a_bad_row_in_a_loaded_batch_fails_it_with_the_insert_error_and_stores_nothing) {
  auto sink = open({});
  ASSERT_TRUE(sink.write(std::vector{row(1000, "there"), row(1001, "there")}, {}));
  std::vector<record> rows;
  for (std::int64_t i = 0; i < 50; ++i) rows.push_back(row(i, fmt::format("r{}", i)));
  struct refusal {
    std::size_t at;
    record bad;
    std::int64_t code;
  };
  for (const auto& c : {refusal{37, row(37, "much too long"), 1406}, refusal{12, row(1000, "dup"), 1062},
                        refusal{20, row(3, "dup"), 1062}, refusal{44, row(44, "x", "abc"), 1366},
                        refusal{5, record{{"id", 5}, {"name", nullptr}, {"n", 1}, {"hits", 0}}, 1048}}) {
    auto batch = rows;
    batch[c.at] = c.bad;
    const auto before = loads();
    const auto undone_before = undone();
    auto r = sink.write(batch, {});
    ASSERT_FALSE(r) << fmt::format("{}", c.bad);
    EXPECT_GT(loads(), before);
    EXPECT_GT(undone(), undone_before);
    EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent) << fmt::format("{}", r.error());
    EXPECT_EQ(r.error().native_code, c.code) << fmt::format("{}", r.error());
    EXPECT_THAT(r.error().message, HasSubstr("inserting rows 0-49 of 50"));
  }
  EXPECT_EQ(stored(), (std::vector{row(1000, "there"), row(1001, "there")}));
  // The runner's per-record answer names the same rows.
  auto batch = rows;
  batch[37] = row(37, "much too long");
  batch[12] = row(1000, "dup");
  auto each = sink.write_each(batch, {}).value();
  ASSERT_EQ(each.size(), 2u);
  EXPECT_EQ(each[0].index, 12u);
  EXPECT_EQ(each[0].reason.native_code, 1062);
  EXPECT_EQ(each[1].index, 37u);
  EXPECT_EQ(each[1].reason.native_code, 1406);
  EXPECT_EQ(mysql_test::count(*db_, table_), 2 + 48);
}

// The load runs inside the transaction of write_committed: rows and ledger entry commit
// together, and a refused row leaves neither.
TEST_F(mysql_table_sink, write_committed_loads_the_rows_in_the_transaction_of_the_ledger_entry) {
  const auto ledger = mysql_test::table_name("ledger");
  cleanup_.names.push_back(ledger);
  auto options = table_sink_options{};
  options.batch_table = ledger;
  auto sink = open(options);
  pipeline::committed_batch entry;
  entry.job = "job";
  entry.sequence = 1;
  entry.start = pipeline::position::from_integer(0);
  entry.end = pipeline::position::from_integer(3);
  const auto before = loads();
  const auto undone_before = undone();
  ASSERT_TRUE(sink.write_committed(std::vector{row(1, "a"), row(2, "b"), row(3, "c")}, entry, {}));
  EXPECT_GT(loads(), before);
  EXPECT_EQ(undone(), undone_before);
  auto second = entry;
  second.sequence = 2;
  auto refused = sink.write_committed(std::vector{row(4, "d"), row(5, "much too long")}, second, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().native_code, 1406);
  EXPECT_EQ(sink.committed_batches("job", {}).value(), std::vector{entry});
  EXPECT_EQ(stored(), (std::vector{row(1, "a"), row(2, "b"), row(3, "c")}));
}

// The connections ask for LOAD DATA LOCAL for the sink's own rows, but a server that asks
// for a file gets none unless database_options::local_infile allows it.
TEST_F(mysql_table_sink, a_server_asking_for_a_client_file_gets_none_without_local_infile) {
  auto r = execute(*db_, fmt::format("LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE `{}`", table_));
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("local_infile"));
  EXPECT_TRUE(stored().empty());
}

// A server whose local_infile is off refuses the load: the rows go by binding instead.
TEST_F(mysql_table_sink, a_server_without_local_infile_gets_the_rows_by_binding) {
  mysql_test::exec(*db_, "SET GLOBAL local_infile = 0");
  struct restore {
    database* db;
    ~restore() { (void)execute(*db, "SET GLOBAL local_infile = 1"); }
  } on_exit{db_.get()};
  auto sink = open({});
  const auto before = loads();
  ASSERT_TRUE(sink.write(std::vector{row(1, "a"), row(2, "b")}, {}));
  ASSERT_TRUE(sink.write(std::vector{row(3, "c"), row(4, "d")}, {}));
  // Refused once; the connection (the pool's only one here) does not ask again.
  EXPECT_EQ(loads(), before + 1);
  EXPECT_EQ(stored(), (std::vector{row(1, "a"), row(2, "b"), row(3, "c"), row(4, "d")}));
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
