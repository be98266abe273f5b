// pipeline::sqlite::table_sink: how values are stored, all-or-nothing batches, the write modes,
// names that are refused, and the write that commits a checkpoint with its rows.
#include <pipeline/sqlite/sqlite.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sqlite/sqlite_test_support.hpp"

namespace {

using namespace std::string_literals;
using pipeline::record;
using pipeline::value;
using pipeline::sqlite::table_sink;
using pipeline::sqlite::table_sink_options;
using pipeline::sqlite::write_mode;

class table_sink_test : public ::testing::Test {
 protected:
  // A sink on `options` over this test's database; the table must exist.
  auto sink(const table_sink_options& options) -> table_sink { return table_sink::open(db_, options).value(); }

  // Writes `rows` and expects success.
  static void write(table_sink& s, const std::vector<record>& rows) {
    auto r = s.write(std::span{rows}, {});
    ASSERT_TRUE(r) << fmt::format("{}", r.error());
  }

  // The one value `v` becomes in an untyped column (no affinity, so sqlite keeps what it is
  // given), read back with its sqlite type.
  auto stored_as(const value& v) -> std::pair<value, std::string> {
    raw_.exec("CREATE TABLE one (v)");
    auto s = sink({.table = "one", .columns = {"v"}});
    write(s, {record{{"v", v}}});
    auto rows = raw_.rows("SELECT v, typeof(v) AS type FROM one");
    return {*rows.at(0).find("v"), rows.at(0).find("type")->get<std::string>()};
  }

  sqlite_test::temp_database_file file_;
  sqlite_test::raw_connection raw_{file_.path()};
  std::shared_ptr<pipeline::sqlite::database> db_ = file_.open();
};

TEST_F(table_sink_test, null_is_stored_as_null) { EXPECT_EQ(stored_as(nullptr), std::pair(value{}, "null"s)); }

TEST_F(table_sink_test, bools_are_stored_as_integers_0_and_1) {
  EXPECT_EQ(stored_as(true), std::pair(value{1}, "integer"s));
}

TEST_F(table_sink_test, int64_extremes_round_trip) {
  raw_.exec("CREATE TABLE ints (v INTEGER)");
  auto s = sink({.table = "ints", .columns = {"v"}});
  const auto low = std::numeric_limits<std::int64_t>::min();
  const auto high = std::numeric_limits<std::int64_t>::max();
  write(s, {record{{"v", low}}, record{{"v", high}}, record{{"v", 0}}});
  EXPECT_THAT(raw_.rows("SELECT v FROM ints ORDER BY rowid"),
              ::testing::ElementsAre(record{{"v", low}}, record{{"v", high}}, record{{"v", 0}}));
}

TEST_F(table_sink_test, doubles_round_trip_exactly) {
  EXPECT_EQ(stored_as(0.1), std::pair(value{0.1}, "real"s));
  raw_.exec("DROP TABLE one");
  EXPECT_EQ(stored_as(-std::numeric_limits<double>::infinity()),
            std::pair(value{-std::numeric_limits<double>::infinity()}, "real"s));
}

TEST_F(table_sink_test, text_keeps_embedded_nuls_and_utf8) {
  const auto text = "a\0b \xc3\xbc \xf0\x9f\x99\x82 '\"; --"s;
  EXPECT_EQ(stored_as(text), std::pair(value{text}, "text"s));
}

TEST_F(table_sink_test, bytes_are_a_blob_byte_for_byte) {
  const pipeline::bytes blob{std::byte{0}, std::byte{0xff}, std::byte{'\''}, std::byte{0x80}};
  EXPECT_EQ(stored_as(blob), std::pair(value{blob}, "blob"s));
}

TEST_F(table_sink_test, an_empty_blob_stays_an_empty_blob_not_null) {
  EXPECT_EQ(stored_as(pipeline::bytes{}), std::pair(value{pipeline::bytes{}}, "blob"s));
}

TEST_F(table_sink_test, timestamps_are_utc_iso_8601_text_with_microseconds_that_sqlite_reads) {
  using namespace std::chrono;
  const pipeline::timestamp t = sys_days{2024y / March / 1} + 12h + 250us;
  EXPECT_EQ(stored_as(t), std::pair(value{"2024-03-01T12:00:00.000250Z"}, "text"s));
  EXPECT_EQ(raw_.scalar("SELECT strftime('%Y-%m-%d %H:%M:%S', v) FROM one"), value{"2024-03-01 12:00:00"});
}

TEST_F(table_sink_test, a_nan_is_invalid_input_and_nothing_of_the_batch_is_written) {
  raw_.exec("CREATE TABLE reals (id INTEGER, v REAL)");
  auto s = sink({.table = "reals", .columns = {"id", "v"}});
  const std::vector<record> rows{{{"id", 0}, {"v", 1.5}}, {{"id", 1}, {"v", std::nan("")}}};
  auto r = s.write(std::span{rows}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("row 1 of 2"));
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("NaN"));
  EXPECT_TRUE(raw_.rows("SELECT * FROM reals").empty());
}

TEST_F(table_sink_test, a_timestamp_beyond_year_9999_is_invalid_input) {
  raw_.exec("CREATE TABLE times (v TEXT)");
  auto s = sink({.table = "times", .columns = {"v"}});
  const std::vector<record> rows{{{"v", pipeline::timestamp{std::chrono::years{10'000}}}}};
  auto r = s.write(std::span{rows}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
}

TEST_F(table_sink_test, a_missing_field_is_written_as_null_and_an_unlisted_field_is_ignored) {
  raw_.exec("CREATE TABLE people (id INTEGER, name TEXT)");
  auto s = sink({.table = "people", .columns = {"id", "name"}});
  write(s, {record{{"id", 1}, {"extra", "ignored"}}});
  EXPECT_THAT(raw_.rows("SELECT * FROM people"), ::testing::ElementsAre(record{{"id", 1}, {"name", nullptr}}));
}

TEST_F(table_sink_test, a_constraint_violation_in_row_k_rolls_back_the_whole_write) {
  raw_.exec("CREATE TABLE prices (id INTEGER, price INTEGER CHECK (price >= 0))");
  auto s = sink({.table = "prices", .columns = {"id", "price"}});
  std::vector<record> rows;
  for (int i = 0; i < 10; ++i) rows.push_back({{"id", i}, {"price", i == 6 ? -1 : i}});
  auto r = s.write(std::span{rows}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(r.error().native_code, SQLITE_CONSTRAINT_CHECK);
  EXPECT_EQ(r.error().backend, "sqlite");
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("row 6 of 10"));
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("CHECK constraint failed"));
  EXPECT_TRUE(raw_.rows("SELECT * FROM prices").empty());
}

TEST_F(table_sink_test, upsert_updates_the_chosen_columns_and_adds_the_counters) {
  raw_.exec("CREATE TABLE counts (id INTEGER PRIMARY KEY, name TEXT, note TEXT, hits INTEGER)");
  auto s = sink({.table = "counts",
                 .columns = {"id", "name", "note", "hits"},
                 .mode = write_mode::upsert,
                 .key_columns = {"id"},
                 .update_columns = {"name"},
                 .add_columns = {"hits"}});
  write(s, {{{"id", 1}, {"name", "a"}, {"note", "first"}, {"hits", 1}},
            {{"id", 2}, {"name", "b"}, {"note", "first"}, {"hits", 5}}});
  write(s, {{{"id", 1}, {"name", "A"}, {"note", "second"}, {"hits", 2}}});
  EXPECT_THAT(raw_.rows("SELECT * FROM counts ORDER BY id"),
              ::testing::ElementsAre(record{{"id", 1}, {"name", "A"}, {"note", "first"}, {"hits", 3}},
                                     record{{"id", 2}, {"name", "b"}, {"note", "first"}, {"hits", 5}}));
}

TEST_F(table_sink_test, upsert_with_nothing_to_update_keeps_the_first_row_but_still_checks_constraints) {
  raw_.exec("CREATE TABLE seen (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  auto s = sink({.table = "seen", .columns = {"id", "v"}, .mode = write_mode::upsert, .key_columns = {"id"}});
  write(s, {{{"id", 1}, {"v", 1}}});
  write(s, {{{"id", 1}, {"v", 2}}});
  EXPECT_THAT(raw_.rows("SELECT * FROM seen"), ::testing::ElementsAre(record{{"id", 1}, {"v", 1}}));
  const std::vector<record> null_v{{{"id", 2}, {"v", nullptr}}};
  auto r = s.write(std::span{null_v}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().native_code, SQLITE_CONSTRAINT_NOTNULL);
}

TEST_F(table_sink_test, insert_or_ignore_keeps_the_first_row) {
  raw_.exec("CREATE TABLE firsts (id INTEGER PRIMARY KEY, v TEXT)");
  auto s = sink({.table = "firsts", .columns = {"id", "v"}, .mode = write_mode::insert_or_ignore});
  write(s, {{{"id", 1}, {"v", "first"}}});
  write(s, {{{"id", 1}, {"v", "second"}}, {{"id", 2}, {"v", "other"}}});
  EXPECT_THAT(raw_.rows("SELECT * FROM firsts ORDER BY id"),
              ::testing::ElementsAre(record{{"id", 1}, {"v", "first"}}, record{{"id", 2}, {"v", "other"}}));
}

TEST_F(table_sink_test, insert_fails_on_a_key_that_exists) {
  raw_.exec("CREATE TABLE once (id INTEGER PRIMARY KEY)");
  auto s = sink({.table = "once", .columns = {"id"}});
  write(s, {{{"id", 1}}});
  const std::vector<record> again{{{"id", 1}}};
  auto r = s.write(std::span{again}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().native_code, SQLITE_CONSTRAINT_PRIMARYKEY);
}

TEST_F(table_sink_test, sql_in_values_is_stored_literally) {
  raw_.exec("CREATE TABLE notes (id INTEGER, body TEXT)");
  auto s = sink({.table = "notes", .columns = {"id", "body"}});
  const auto hostile = "x'); DROP TABLE notes; --"s;
  write(s, {{{"id", 1}, {"body", hostile}}});
  EXPECT_THAT(raw_.rows("SELECT * FROM notes"), ::testing::ElementsAre(record{{"id", 1}, {"body", hostile}}));
}

TEST_F(table_sink_test, hostile_names_are_rejected_before_any_sql_is_sent) {
  raw_.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
  const std::vector<std::string> hostile{
      "users; DROP TABLE users", "users\"", "us'ers", "a\0b"s, "", "1users", "us ers", "\xc3\xbc", std::string(65, 'u')};
  for (const auto& name : hostile) {
    SCOPED_TRACE(fmt::format("name {}", value{name}));
    EXPECT_THROW((void)table_sink::open(db_, {.table = name, .columns = {"id"}}), std::invalid_argument);
    EXPECT_THROW((void)table_sink::open(db_, {.table = "users", .columns = {"id", name}}), std::invalid_argument);
    EXPECT_THROW((void)table_sink::open(db_, {.table = "users",
                                              .columns = {"id"},
                                              .mode = write_mode::upsert,
                                              .key_columns = {name}}),
                 std::invalid_argument);
    EXPECT_THROW((void)table_sink::open(db_, {.table = "users", .columns = {"id"}, .checkpoint_table = name}),
                 std::invalid_argument);
  }
  EXPECT_THAT(raw_.tables(), ::testing::ElementsAre("users"));
}

TEST_F(table_sink_test, inconsistent_options_throw_invalid_argument_naming_the_option) {
  raw_.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)");
  const auto throws_naming = [&](const table_sink_options& options, const std::string& option) {
    try {
      (void)table_sink::open(db_, options);
      ADD_FAILURE() << "no exception for " << option;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(option));
    }
  };
  throws_naming({.table = "t"}, "options.columns");
  throws_naming({.table = "t", .columns = {"id", "id"}}, "options.columns");
  throws_naming({.table = "t", .columns = {"id"}, .key_columns = {"id"}}, "upsert");
  throws_naming({.table = "t", .columns = {"id"}, .mode = write_mode::upsert}, "options.key_columns");
  throws_naming({.table = "t", .columns = {"id", "a"}, .mode = write_mode::upsert, .key_columns = {"id"},
                 .update_columns = {"b"}},
                "options.update_columns");
  throws_naming({.table = "t", .columns = {"id", "a"}, .mode = write_mode::upsert, .key_columns = {"id"},
                 .update_columns = {"id"}},
                "options.key_columns");
  throws_naming({.table = "t", .columns = {"id", "a"}, .mode = write_mode::upsert, .key_columns = {"id"},
                 .update_columns = {"a"}, .add_columns = {"a"}},
                "options.add_columns");
  EXPECT_THROW((void)table_sink::open(nullptr, {.table = "t", .columns = {"id"}}), std::invalid_argument);
}

TEST_F(table_sink_test, opening_on_a_missing_table_is_a_permanent_error) {
  auto s = table_sink::open(db_, {.table = "absent", .columns = {"id"}});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, pipeline::error_kind::permanent);
  EXPECT_THAT(s.error().message, ::testing::HasSubstr("no such table"));
}

TEST_F(table_sink_test, upsert_keys_without_a_unique_index_are_a_permanent_error_at_open) {
  raw_.exec("CREATE TABLE loose (id INTEGER, v INTEGER)");
  auto s = table_sink::open(db_, {.table = "loose",
                                  .columns = {"id", "v"},
                                  .mode = write_mode::upsert,
                                  .key_columns = {"id"},
                                  .update_columns = {"v"}});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, pipeline::error_kind::permanent);
}

TEST_F(table_sink_test, a_stop_requested_before_the_write_writes_nothing) {
  raw_.exec("CREATE TABLE t (id INTEGER)");
  auto s = sink({.table = "t", .columns = {"id"}});
  std::stop_source stop;
  stop.request_stop();
  const std::vector<record> rows{{{"id", 1}}};
  auto r = s.write(std::span{rows}, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::stopped);
  EXPECT_TRUE(raw_.rows("SELECT * FROM t").empty());
}

TEST_F(table_sink_test, create_table_makes_a_missing_table_with_the_given_types_and_the_key_columns_as_primary_key) {
  auto s = sink({.table = "made",
                 .columns = {"id", "name", "raw"},
                 .mode = write_mode::upsert,
                 .key_columns = {"id"},
                 .update_columns = {"name"},
                 .create_table = true,
                 .column_types = {{"id", "INTEGER"}, {"name", "TEXT NOT NULL"}}});
  EXPECT_THAT(raw_.rows("SELECT name, type, \"notnull\", pk FROM pragma_table_info('made')"),
              ::testing::ElementsAre(record{{"name", "id"}, {"type", "INTEGER"}, {"notnull", 0}, {"pk", 1}},
                                     record{{"name", "name"}, {"type", "TEXT"}, {"notnull", 1}, {"pk", 0}},
                                     record{{"name", "raw"}, {"type", ""}, {"notnull", 0}, {"pk", 0}}));
  write(s, {{{"id", 1}, {"name", "a"}, {"raw", 2.5}}});
  write(s, {{{"id", 1}, {"name", "b"}, {"raw", "ignored: not an update column"}}});
  EXPECT_THAT(raw_.rows("SELECT * FROM made"),
              ::testing::ElementsAre(record{{"id", 1}, {"name", "b"}, {"raw", 2.5}}));
}

TEST_F(table_sink_test, create_table_leaves_a_table_that_exists_as_it_is) {
  raw_.exec("CREATE TABLE kept (id INTEGER, extra TEXT DEFAULT 'x')");
  auto s = sink({.table = "kept", .columns = {"id"}, .create_table = true, .column_types = {{"id", "TEXT"}}});
  write(s, {{{"id", 7}}});
  EXPECT_THAT(raw_.rows("SELECT * FROM kept"), ::testing::ElementsAre(record{{"id", 7}, {"extra", "x"}}));
  EXPECT_EQ(raw_.scalar("SELECT type FROM pragma_table_info('kept') WHERE name = 'id'"), value{"INTEGER"});
}

TEST_F(table_sink_test, column_types_are_checked_before_any_sql_is_sent) {
  const auto throws_naming = [&](const table_sink_options& options, const std::string& text) {
    try {
      (void)table_sink::open(db_, options);
      ADD_FAILURE() << "no exception for " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(text));
    }
  };
  for (const auto* hostile : {"INTEGER); DROP TABLE x; --", "TEXT DEFAULT 'a'", "INT)", "(INT", "", "  "}) {
    throws_naming({.table = "t", .columns = {"id"}, .create_table = true, .column_types = {{"id", hostile}}},
                  "options.column_types");
  }
  throws_naming({.table = "t", .columns = {"id"}, .create_table = true, .column_types = {{"other", "INTEGER"}}},
                "not in options.columns");
  throws_naming({.table = "t", .columns = {"id"}, .column_types = {{"id", "INTEGER"}}}, "options.create_table");
  EXPECT_TRUE(raw_.tables().empty());
}

TEST_F(table_sink_test, key_columns_outside_upsert_are_the_primary_key_of_a_created_table) {
  auto s = sink({.table = "once", .columns = {"id", "v"}, .mode = write_mode::insert_or_ignore,
                 .key_columns = {"id"}, .create_table = true});
  write(s, {{{"id", 1}, {"v", "first"}}, {{"id", 1}, {"v", "second"}}});
  EXPECT_THAT(raw_.rows("SELECT * FROM once"), ::testing::ElementsAre(record{{"id", 1}, {"v", "first"}}));
}

class write_with_checkpoint_test : public table_sink_test {
 protected:
  void SetUp() override {
    raw_.exec("CREATE TABLE events (id INTEGER, kind TEXT)");
    sink_.emplace(sink({.table = "events", .columns = {"id", "kind"}}));
  }

  auto events(std::int64_t first, std::int64_t count) -> std::vector<record> {
    std::vector<record> out;
    for (auto i = first; i < first + count; ++i) out.push_back({{"id", i}, {"kind", "click"}});
    return out;
  }
  auto stored_events() -> std::size_t { return raw_.rows("SELECT * FROM events").size(); }

  std::optional<table_sink> sink_;  // made in SetUp, once its table exists
  pipeline::sqlite::checkpoint_store checkpoints_ = pipeline::sqlite::checkpoint_store::open(db_).value();
};

TEST_F(write_with_checkpoint_test, commits_the_rows_and_the_checkpoint_together) {
  const auto rows = events(0, 3);
  auto v = sink_->write_with_checkpoint(std::span{rows}, "events", pipeline::position::from_integer(3), 0, {});
  ASSERT_TRUE(v) << fmt::format("{}", v.error());
  EXPECT_EQ(*v, 1u);
  EXPECT_EQ(stored_events(), 3u);
  EXPECT_EQ(checkpoints_.load("events").value(), (pipeline::checkpoint{pipeline::position::from_integer(3), 1}));
}

TEST_F(write_with_checkpoint_test, a_stale_version_is_a_conflict_and_no_row_is_written) {
  const auto first = events(0, 3);
  ASSERT_TRUE(sink_->write_with_checkpoint(std::span{first}, "events", pipeline::position::from_integer(3), 0, {}));
  // A second writer that still believes the checkpoint is at version 0 redoes the batch.
  auto stale = sink_->write_with_checkpoint(std::span{first}, "events", pipeline::position::from_integer(3), 0, {});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, pipeline::error_kind::conflict);
  EXPECT_EQ(stored_events(), 3u);
  EXPECT_EQ(checkpoints_.load("events")->version, 1u);
}

TEST_F(write_with_checkpoint_test, a_failed_row_leaves_the_checkpoint_where_it_was) {
  auto rows = events(0, 3);
  rows[2].set("kind", std::nan(""));
  auto r = sink_->write_with_checkpoint(std::span{rows}, "events", pipeline::position::from_integer(3), 0, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_EQ(stored_events(), 0u);
  EXPECT_EQ(checkpoints_.load("events")->version, 0u);
}

}  // namespace
