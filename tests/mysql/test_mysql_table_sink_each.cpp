// pipeline::mysql::table_sink answering per record (write_each) on MariaDB: rows the column
// metadata refuses are never sent, duplicate keys skipped by the server in one statement,
// other refusals only the server sees found by a lookup and row by row in the same
// transaction, good rows stored once, and the runner dead-lettering exactly the bad rows
// with one write_each per batch.
#include <pipeline/mysql/mysql.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mysql/mysql_test_support.hpp"
#include "support/per_record_run.hpp"

namespace {

using namespace pipeline::mysql;
using pipeline::record;
using pipeline::value;
using ::testing::HasSubstr;

static_assert(pipeline::per_record_sink<table_sink>);

// A good row: `id`, a unique code.
auto good(std::int64_t id) -> record {
  return {{"id", id}, {"name", fmt::format("n{}", id)}, {"small", 7}, {"price", 12.5},
          {"color", "red"}, {"code", fmt::format("c{}", id)}};
}

auto with(record r, std::string_view field, value v) -> record {
  r.set(field, std::move(v));
  return r;
}

class mysql_table_sink_each : public ::testing::Test {
 protected:
  void SetUp() override {
    cleanup_.names = {table_};
    // No key on id: a good row stored twice would show. `code` is the unique key.
    mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT NOT NULL, name VARCHAR(8) NOT NULL, "
                                       "small TINYINT UNSIGNED, price DECIMAL(5,2), color ENUM('red','green'), "
                                       "code VARCHAR(8), UNIQUE KEY (code)) ENGINE=InnoDB",
                                       table_));
  }
  auto open() -> table_sink {
    return table_sink::open(db_, {.table = table_, .columns = {"id", "name", "small", "price", "color", "code"}})
        .value();
  }
  auto stored_ids() -> std::vector<std::int64_t> {
    std::vector<std::int64_t> ids;
    for (const auto& r : mysql_test::rows(db_, fmt::format("SELECT id FROM `{}` ORDER BY id", table_))) {
      ids.push_back(r.find("id")->get<std::int64_t>());
    }
    return ids;
  }
  std::shared_ptr<database> db_ = mysql_test::open_db();
  std::string table_ = mysql_test::table_name("each");
  mysql_test::dropped_tables cleanup_{db_, {}};
};

// Row i of the mixed batch and the code each bad one is refused with (0: good).
struct mixed_row {
  record row;
  unsigned int code;
  pipeline::error_kind kind = pipeline::error_kind::invalid_input;
};

auto mixed_batch() -> std::vector<mixed_row> {
  return {
      {good(1), 0},
      {with(good(2), "name", "abcdefghij"), 1406},              // 10 characters into VARCHAR(8)
      {with(good(3), "name", nullptr), 1048},                   // NULL into NOT NULL
      {with(good(4), "small", 300), 1264},                      // past TINYINT UNSIGNED
      {with(good(5), "small", -1), 1264},                       // negative into UNSIGNED
      {with(good(6), "price", 1234.5), 1264},                   // 4 digits before the point of DECIMAL(5,2)
      {with(good(7), "price", "abc"), 1366},                    // no number
      {with(good(8), "color", "blue"), 1265},                   // no member of the ENUM
      {with(good(9), "code", "c100"), 1062, pipeline::error_kind::permanent},  // the row stored before
      {with(good(10), "code", "c1"), 1062, pipeline::error_kind::permanent},   // row 0's code
      {with(good(11), "name", "éééééééé"), 0},                  // 8 characters, 16 bytes: fits
      {with(good(12), "color", "GREEN"), 0},                    // members compare without case
      {with(good(13), "price", "-999.99"), 0},                  // the most negative DECIMAL(5,2)
      {with(good(14), "small", "255"), 0},                      // text of a number in range
      {good(15), 0},
  };
}

TEST_F(mysql_table_sink_each, a_mixed_batch_refuses_exactly_its_bad_rows_and_stores_the_others_once) {
  auto sink = open();
  ASSERT_TRUE(sink.write(std::vector{with(good(100), "code", "c100")}, {}));
  std::vector<record> rows;
  std::vector<std::int64_t> expected_ids;
  const auto batch = mixed_batch();
  for (const auto& m : batch) {
    rows.push_back(m.row);
    if (m.code == 0) expected_ids.push_back(m.row.find("id")->get<std::int64_t>());
  }
  expected_ids.push_back(100);

  auto refused = sink.write_each(rows, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  std::vector<std::size_t> expected_indexes;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].code != 0) expected_indexes.push_back(i);
  }
  std::vector<std::size_t> indexes;
  for (const auto& r : *refused) indexes.push_back(r.index);
  ASSERT_EQ(indexes, expected_indexes);
  for (const auto& r : *refused) {
    SCOPED_TRACE(r.index);
    EXPECT_EQ(r.reason.native_code, batch[r.index].code) << r.reason.message;
    EXPECT_EQ(r.reason.kind, batch[r.index].kind);
    EXPECT_EQ(r.reason.backend, "mysql");
    EXPECT_THAT(r.reason.message, HasSubstr(fmt::format("row {} of {}", r.index, batch.size())));
  }
  EXPECT_THAT(refused->at(0).reason.message, HasSubstr("Data too long for column 'name'"));
  EXPECT_THAT(refused->at(7).reason.message, HasSubstr("Duplicate entry 'c100'"));
  EXPECT_EQ(stored_ids(), expected_ids);
}

// What the check refuses before sending is what the server refuses for the row alone.
TEST_F(mysql_table_sink_each, each_refusal_of_the_check_is_the_servers_own_code) {
  auto sink = open();
  for (const auto& m : mixed_batch()) {
    if (m.code == 0 || m.kind != pipeline::error_kind::invalid_input) continue;
    SCOPED_TRACE(fmt::format("{}", m.row));
    auto refused = sink.write_each(std::vector{m.row}, {});
    ASSERT_TRUE(refused);
    ASSERT_EQ(refused->size(), 1u);
    auto server = sink.write(std::vector{m.row}, {});
    ASSERT_FALSE(server);
    EXPECT_EQ(refused->front().reason.native_code, server.error().native_code) << server.error().message;
  }
  EXPECT_TRUE(stored_ids().empty());
}

// Duplicate keys are skipped by the server in the one statement (INSERT IGNORE): each
// skipped row gets the server's own message, twins only the collation makes equal ('C2' and
// 'c2' under a case-insensitive one) included, and every other row is stored once.
TEST_F(mysql_table_sink_each, duplicate_keys_are_skipped_by_the_server_in_one_statement) {
  auto sink = open();
  ASSERT_TRUE(sink.write(std::vector{good(1), good(2)}, {}));
  // Row 4's price is rounded (a note, as under a plain INSERT): it is stored.
  const std::vector rows{good(3), good(1), with(good(4), "code", "c3"), with(good(5), "code", "C2"),
                         with(good(6), "price", 1.005)};
  auto refused = sink.write_each(rows, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  ASSERT_EQ(refused->size(), 3u);
  EXPECT_EQ(refused->at(0).index, 1u);
  EXPECT_THAT(refused->at(0).reason.message, HasSubstr("row 1 of 5: Duplicate entry 'c1' for key 'code' into `"));
  EXPECT_EQ(refused->at(1).index, 2u);
  EXPECT_THAT(refused->at(1).reason.message, HasSubstr("Duplicate entry 'c3' for key 'code'"));
  EXPECT_EQ(refused->at(2).index, 3u);
  EXPECT_THAT(refused->at(2).reason.message, HasSubstr("Duplicate entry 'C2' for key 'code'"));
  for (const auto& r : *refused) {
    EXPECT_EQ(r.reason.native_code, 1062);
    EXPECT_EQ(r.reason.kind, pipeline::error_kind::permanent);
    EXPECT_THAT(r.reason.message, ::testing::Not(HasSubstr("found before sending")));
  }
  EXPECT_EQ(stored_ids(), (std::vector<std::int64_t>{1, 2, 3, 6}));

  // Twins within the batch that only the collation makes equal, and three of one key: the
  // first of each is stored, the later ones are skipped.
  refused = sink.write_each(std::vector{with(good(7), "code", "k7"), with(good(8), "code", "K7"), good(9),
                                        with(good(10), "code", "k10"), with(good(11), "code", "k10"),
                                        with(good(12), "code", "k10")},
                            {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  std::vector<std::size_t> indexes;
  for (const auto& r : *refused) indexes.push_back(r.index);
  EXPECT_EQ(indexes, (std::vector<std::size_t>{1, 4, 5}));
  EXPECT_EQ(stored_ids(), (std::vector<std::int64_t>{1, 2, 3, 6, 7, 9, 10}));
}

// More duplicates than a server keeps warnings by default (64), over statements of 128 rows
// (the warnings of each read before the next): every one is named by the server.
TEST_F(mysql_table_sink_each, a_batch_stored_before_is_skipped_whole) {
  auto sink = table_sink::open(db_, {.table = table_,
                                     .columns = {"id", "name", "small", "price", "color", "code"},
                                     .rows_per_statement = 128})
                  .value();
  std::vector<record> rows;
  for (std::int64_t id = 1; id <= 300; ++id) rows.push_back(good(id));
  ASSERT_TRUE(sink.write(rows, {}));
  rows.push_back(good(301));
  auto refused = sink.write_each(rows, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  ASSERT_EQ(refused->size(), 300u);
  for (std::size_t i = 0; i < 300; ++i) {
    EXPECT_EQ(refused->at(i).index, i);
    EXPECT_THAT(refused->at(i).reason.message, HasSubstr(fmt::format("Duplicate entry 'c{}'", i + 1)));
    EXPECT_THAT(refused->at(i).reason.message, ::testing::Not(HasSubstr("found before sending")));
  }
  EXPECT_EQ(stored_ids().size(), 301u);
}

// When the server skips a row for something else (here a foreign key), the statement is
// undone: one lookup finds the duplicate keys, the rest goes in bulk, and what that still
// refuses is found row by row with the server's own error. Each good row is stored once.
TEST_F(mysql_table_sink_each, a_row_skipped_for_another_reason_falls_back_to_the_lookup_and_row_by_row) {
  const auto parent = mysql_test::table_name("parent");
  cleanup_.names.push_back(parent);  // dropped after the child
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (color VARCHAR(8) PRIMARY KEY) ENGINE=InnoDB", parent));
  mysql_test::exec(*db_, fmt::format("INSERT INTO `{}` VALUES ('n1'), ('n2'), ('n3'), ('n5'), ('n6')", parent));
  mysql_test::exec(*db_, fmt::format("ALTER TABLE `{}` ADD FOREIGN KEY (name) REFERENCES `{}` (color)", table_, parent));
  auto sink = open();
  ASSERT_TRUE(sink.write(std::vector{good(1)}, {}));
  const std::vector rows{good(2), good(1), with(good(3), "code", "c2"), good(4), good(5), good(6)};
  auto refused = sink.write_each(rows, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  ASSERT_EQ(refused->size(), 3u);
  EXPECT_EQ(refused->at(0).index, 1u);
  EXPECT_THAT(refused->at(0).reason.message, HasSubstr("stored already"));
  EXPECT_EQ(refused->at(1).index, 2u);
  EXPECT_THAT(refused->at(1).reason.message, HasSubstr("row 0 has it too"));
  EXPECT_EQ(refused->at(2).index, 3u);  // name 'n4' has no parent
  EXPECT_EQ(refused->at(2).reason.native_code, 1452) << refused->at(2).reason.message;
  EXPECT_EQ(stored_ids(), (std::vector<std::int64_t>{1, 2, 5, 6}));
}

// CHECK constraints made of bounds on a column are judged before sending, with the server's
// code for the row alone; one the check cannot read (an OR) is left to the server, which
// refuses its rows one statement each. Every good row is stored once.
TEST_F(mysql_table_sink_each, check_constraints_of_bounds_are_judged_before_sending) {
  const auto table = mysql_test::table_name("checks");
  cleanup_.names.push_back(table);
  mysql_test::exec(*db_, fmt::format("CREATE TABLE `{}` (id BIGINT NOT NULL, age INT CHECK (age >= 0), "
                                     "grade DECIMAL(4,1), code INT, CONSTRAINT grade_range CHECK (grade BETWEEN 1 AND 6 "
                                     "AND (grade <> 5)), CONSTRAINT either CHECK (code < 10 OR code > 20)) ENGINE=InnoDB",
                                     table));
  auto sink = table_sink::open(db_, {.table = table, .columns = {"id", "age", "grade", "code"}}).value();
  const auto row = [](std::int64_t id, value age, value grade, value code) {
    return record{{"id", id}, {"age", std::move(age)}, {"grade", std::move(grade)}, {"code", std::move(code)}};
  };
  const std::vector rows{
      row(0, 0, 1, 1),              // good: bounds included
      row(1, -1, 2, 1),             // age >= 0
      row(2, 30, 7, 1),             // grade past 6
      row(3, 30, 5, 1),             // grade <> 5
      row(4, nullptr, nullptr, 1),  // good: NULL fails no CHECK
      row(5, 30, 2, 15),            // the OR: the server's
      row(6, 30, "5", 1),           // text: the server's (it converts)
      row(7, 30, 6, 25),            // good
  };
  auto refused = sink.write_each(rows, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  std::vector<std::size_t> indexes;
  for (const auto& r : *refused) {
    indexes.push_back(r.index);
    EXPECT_EQ(r.reason.native_code, 4025) << r.reason.message;
    auto server = sink.write(std::vector{rows[r.index]}, {});
    ASSERT_FALSE(server) << r.index;
    EXPECT_EQ(server.error().native_code, 4025);
  }
  EXPECT_EQ(indexes, (std::vector<std::size_t>{1, 2, 3, 5, 6}));
  EXPECT_THAT(refused->at(0).reason.message, HasSubstr(fmt::format("CONSTRAINT `{}.age` failed for `{}`", table, table)));
  // Judged before sending: the server's own message names the database too.
  EXPECT_THAT(refused->at(1).reason.message, HasSubstr(fmt::format("CONSTRAINT `grade_range` failed for `{}`", table)));
  EXPECT_THAT(refused->at(2).reason.message, HasSubstr(fmt::format("CONSTRAINT `grade_range` failed for `{}`", table)));
  EXPECT_THAT(refused->at(3).reason.message, HasSubstr("CONSTRAINT `either` failed for `pipe`."));
  std::vector<std::int64_t> ids;
  for (const auto& r : mysql_test::rows(db_, fmt::format("SELECT id FROM `{}` ORDER BY id", table))) {
    ids.push_back(r.find("id")->get<std::int64_t>());
  }
  EXPECT_EQ(ids, (std::vector<std::int64_t>{0, 4, 7}));
}

// Under upsert a stored key is an update, never a duplicate.
TEST_F(mysql_table_sink_each, upsert_takes_stored_keys) {
  auto sink = table_sink::open(db_, {.table = table_,
                                     .columns = {"id", "name", "small", "price", "color", "code"},
                                     .mode = write_mode::upsert,
                                     .key_columns = {"code"},
                                     .update_columns = {"id"}})
                  .value();
  ASSERT_TRUE(sink.write(std::vector{good(1)}, {}));
  auto refused = sink.write_each(std::vector{with(good(2), "code", "c1"), with(good(3), "name", nullptr)}, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  ASSERT_EQ(refused->size(), 1u);
  EXPECT_EQ(refused->at(0).index, 1u);
  EXPECT_EQ(stored_ids(), (std::vector<std::int64_t>{2}));
}

TEST_F(mysql_table_sink_each, a_clean_batch_refuses_nothing) {
  auto sink = open();
  pipeline::test::expect_a_clean_batch_refuses_nothing(sink, good, [&] { return stored_ids(); });
}

TEST_F(mysql_table_sink_each, a_batch_of_only_bad_rows_sends_nothing_and_stores_nothing) {
  auto sink = open();
  auto refused = sink.write_each(std::vector{with(good(1), "name", nullptr), with(good(2), "small", 1000)}, {});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->size(), 2u);
  EXPECT_TRUE(stored_ids().empty());
}

TEST_F(mysql_table_sink_each, write_stays_all_or_nothing) {
  auto sink = open();
  auto r = sink.write(std::vector{good(1), with(good(2), "name", "abcdefghij")}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().native_code, 1406);
  EXPECT_TRUE(stored_ids().empty());
}

TEST_F(mysql_table_sink_each, the_runner_dead_letters_exactly_the_bad_rows_with_one_write_each_per_batch) {
  auto sink = open();
  // Too long, out of range, and a duplicate of a key stored before the run (a duplicate of
  // another row in the run would race: with 2 workers either twin may commit first).
  mysql_test::exec(*db_, fmt::format("INSERT INTO `{}` (id, name, code) VALUES (-1, 'before', 'taken')", table_));
  pipeline::test::expect_runner_dead_letters_exactly_the_bad_rows(
      sink, 200, good, {{3, "name", std::string(20, 'x')}, {9, "small", 999}, {17, "code", "taken"}}, [&] {
        auto ids = stored_ids();
        std::erase(ids, -1);
        return ids;
      });
}

}  // namespace
