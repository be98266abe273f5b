// pipeline::postgres::table_sink against the server: the write modes' SQL, the type mapping,
// values that are never SQL, per-record answers and the checkpoint in the rows' transaction.
#include <pipeline/postgres/postgres.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "postgres/postgres_test_support.hpp"

namespace {

using namespace pipeline::postgres;
using ::testing::HasSubstr;
using pipeline::record;
using pipeline::value;

struct postgres_table_sink : ::testing::Test {
  std::shared_ptr<database> db = postgres_test::open_db();
  std::string table = postgres_test::table_name("sink");
  std::string checkpoints = postgres_test::table_name("cp");
  postgres_test::dropped_tables cleanup{db, {table, checkpoints}};

  void create(const std::string& columns) {
    postgres_test::exec(*db, fmt::format("CREATE TABLE \"{}\" ({})", table, columns));
  }
  auto stored(const std::string& columns, const std::string& order = "id") -> std::vector<record> {
    return postgres_test::rows(fmt::format("SELECT {} FROM \"{}\" ORDER BY {}", columns, table, order));
  }
};

TEST_F(postgres_table_sink, upsert_updates_and_adds_to_counters) {
  create("id BIGINT PRIMARY KEY, name TEXT, n BIGINT");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id", "name", "n"}, .mode = write_mode::upsert,
                                    .key_columns = {"id"}, .update_columns = {"name"}, .add_columns = {"n"}})
                  .value();
  const std::vector<record> first{{{"id", 1}, {"name", "a"}, {"n", 2}}, {{"id", 2}, {"name", "b"}, {"n", 5}}};
  const std::vector<record> second{{{"id", 1}, {"name", "A"}, {"n", 3}}};
  ASSERT_TRUE(sink.write(first, {}));
  ASSERT_TRUE(sink.write(second, {}));
  EXPECT_EQ(stored("id, name, n"), (std::vector<record>{{{"id", 1}, {"name", "A"}, {"n", 5}},
                                                        {{"id", 2}, {"name", "b"}, {"n", 5}}}));
}

TEST_F(postgres_table_sink, insert_ignore_keeps_the_first_row_of_a_key) {
  create("id BIGINT PRIMARY KEY, name TEXT");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id", "name"}, .mode = write_mode::insert_ignore})
                  .value();
  const std::vector<record> rows{{{"id", 1}, {"name", "first"}}, {{"id", 1}, {"name", "second"}}};
  ASSERT_TRUE(sink.write(rows, {}));
  EXPECT_EQ(stored("id, name"), (std::vector<record>{{{"id", 1}, {"name", "first"}}}));
}

TEST_F(postgres_table_sink, a_duplicate_fails_a_plain_insert_permanently_and_writes_nothing) {
  create("id BIGINT PRIMARY KEY");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id"}}).value();
  const std::vector<record> rows{{{"id", 1}}, {{"id", 2}}, {{"id", 1}}};
  auto r = sink.write(rows, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(r.error().native_code, sqlstate_code("23505"));
  EXPECT_EQ(postgres_test::count(*db, table), 0);
}

TEST_F(postgres_table_sink, every_value_kind_round_trips_into_its_column_type) {
  create("id BIGINT PRIMARY KEY, flag BOOLEAN, ratio DOUBLE PRECISION, at TIMESTAMPTZ, raw BYTEA, "
         "amount NUMERIC(10,2), doc JSONB, note TEXT, small INTEGER");
  auto sink = table_sink::open(db, {.table = table,
                                    .columns = {"id", "flag", "ratio", "at", "raw", "amount", "doc", "note", "small"}})
                  .value();
  const auto at = pipeline::timestamp{std::chrono::sys_days{std::chrono::year{2024} / 3 / 1}} +
                  std::chrono::microseconds{250};
  const std::string raw_bytes{"\x00\x01\xff", 3};
  record row{{"id", 1}, {"flag", true}, {"ratio", 0.25}, {"at", at},
             {"raw", pipeline::bytes{std::byte{0}, std::byte{1}, std::byte{0xff}}}, {"amount", "12.50"},
             {"doc", R"({"a": 1})"}, {"note", "it's \"quoted\" -- and; DROP TABLE x"}};
  ASSERT_TRUE(sink.write(std::vector{row}, {}));
  auto back = stored("flag::text, ratio::text, at::text, encode(raw, 'hex') AS raw, amount::text, doc::text, note, small");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0], (record{{"flag", "true"}, {"ratio", "0.25"}, {"at", "2024-03-01 00:00:00.00025+00"},
                             {"raw", "0001ff"}, {"amount", "12.50"}, {"doc", R"({"a": 1})"},
                             {"note", "it's \"quoted\" -- and; DROP TABLE x"}, {"small", value{}}}));
}

TEST_F(postgres_table_sink, a_value_the_column_cannot_hold_is_invalid_input_and_a_nul_never_leaves) {
  create("id BIGINT PRIMARY KEY, name VARCHAR(3)");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id", "name"}}).value();
  auto too_long = sink.write(std::vector<record>{{{"id", 1}, {"name", "toolong"}}}, {});
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_EQ(too_long.error().native_code, sqlstate_code("22001"));
  auto nul = sink.write(std::vector<record>{{{"id", 2}, {"name", std::string{"a\0b", 3}}}}, {});
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT(nul.error().message, HasSubstr("NUL"));
}

TEST_F(postgres_table_sink, write_each_returns_only_the_refused_rows_and_commits_the_rest) {
  create("id BIGINT PRIMARY KEY, name TEXT NOT NULL CHECK (name <> 'bad')");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id", "name"}}).value();
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 1}, {"name", "stored"}}}, {}));
  const std::vector<record> rows{{{"id", 2}, {"name", "ok"}},  {{"id", 1}, {"name", "duplicate"}},
                                 {{"id", 3}, {"name", "bad"}}, {{"id", 4}},
                                 {{"id", 5}, {"name", "ok"}}};
  auto refused = sink.write_each(rows, {}).value();
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_EQ(refused[0].index, 1u);
  EXPECT_EQ(refused[0].reason.native_code, sqlstate_code("23505"));
  EXPECT_EQ(refused[1].index, 2u);
  EXPECT_EQ(refused[1].reason.native_code, sqlstate_code("23514"));
  EXPECT_EQ(refused[2].index, 3u);
  EXPECT_EQ(refused[2].reason.native_code, sqlstate_code("23502"));
  EXPECT_EQ(stored("id"), (std::vector<record>{{{"id", 1}}, {{"id", 2}}, {{"id", 5}}}));
}

TEST_F(postgres_table_sink, copy_keeps_text_with_escapes_and_bytes_as_they_are) {
  create("id BIGINT, note TEXT, raw BYTEA");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id", "note", "raw"}}).value();
  const std::string note = "tab\there\nnew line\\back\\slash\r\\N \\x00";
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 1}, {"note", note},
                                              {"raw", pipeline::bytes{std::byte{'\\'}, std::byte{'\t'}, std::byte{0}}}},
                                             {{"id", 2}}},
                         {}));
  EXPECT_EQ(stored("id, note, encode(raw, 'hex') AS raw"),
            (std::vector<record>{{{"id", 1}, {"note", note}, {"raw", "5c0900"}},
                                 {{"id", 2}, {"note", value{}}, {"raw", value{}}}}));
}

TEST_F(postgres_table_sink, a_value_copy_cannot_send_aborts_the_copy_and_the_connection_goes_on) {
  create("id BIGINT, note TEXT");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id", "note"}}).value();
  std::vector<record> rows;
  for (std::int64_t i = 0; i < 20000; ++i) rows.push_back({{"id", i}, {"note", std::string(40, 'x')}});
  rows[15000].set("note", std::string{"a\0b", 3});  // past the first chunk of COPY data
  auto r = sink.write(rows, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT(r.error().message, HasSubstr("row 15000"));
  EXPECT_EQ(postgres_test::count(*db, table), 0);
  rows[15000].set("note", "fixed");
  ASSERT_TRUE(sink.write(rows, {}));
  EXPECT_EQ(postgres_test::count(*db, table), 20000);
}

TEST_F(postgres_table_sink, upsert_batches_larger_than_the_parameter_limit_go_in_several_statements) {
  create("id BIGINT PRIMARY KEY, a BIGINT, b BIGINT, c BIGINT");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id", "a", "b", "c"}, .mode = write_mode::upsert,
                                    .key_columns = {"id"}, .update_columns = {"a"}, .rows_per_statement = 50000})
                  .value();
  std::vector<record> rows;
  for (std::int64_t i = 0; i < 20000; ++i) rows.push_back({{"id", i}, {"a", i}, {"b", i}, {"c", i}});
  ASSERT_TRUE(sink.write(rows, {}));
  EXPECT_EQ(postgres_test::count(*db, table), 20000);
}

TEST_F(postgres_table_sink, create_table_makes_text_columns_and_the_key) {
  auto sink = table_sink::open(db, {.table = table, .columns = {"id", "name"}, .mode = write_mode::upsert,
                                    .key_columns = {"id"}, .update_columns = {"name"}, .create_table = true,
                                    .column_types = {{"id", "BIGINT"}}})
                  .value();
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 1}, {"name", "x"}}, {{"id", 2}, {"name", "y"}}}, {}));
  ASSERT_TRUE(sink.write(std::vector<record>{{{"id", 1}, {"name", "z"}}}, {}));
  EXPECT_EQ(stored("id, name"), (std::vector<record>{{{"id", 1}, {"name", "z"}}, {{"id", 2}, {"name", "y"}}}));
}

TEST_F(postgres_table_sink, write_with_checkpoint_moves_the_checkpoint_with_the_rows_or_not_at_all) {
  create("id BIGINT PRIMARY KEY");
  auto sink = table_sink::open(db, {.table = table, .columns = {"id"}, .checkpoint_table = checkpoints}).value();
  const auto pos = pipeline::position::from_integer(10);
  EXPECT_EQ(sink.write_with_checkpoint(std::vector<record>{{{"id", 1}}}, "job", pos, 0, {}).value(), 1u);
  // A stale writer (another position at the same version) is turned away before any row.
  auto stale = sink.write_with_checkpoint(std::vector<record>{{{"id", 2}}}, "job",
                                          pipeline::position::from_integer(11), 0, {});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, pipeline::error_kind::conflict);
  // A refused row leaves the checkpoint where it was.
  EXPECT_FALSE(sink.write_with_checkpoint(std::vector<record>{{{"id", 1}}}, "job",
                                          pipeline::position::from_integer(20), 1, {}));
  auto store = checkpoint_store::open(db, {.table = checkpoints}).value();
  EXPECT_EQ(store.load("job").value().version, 1u);
  EXPECT_EQ(postgres_test::count(*db, table), 1);
}

}  // namespace
