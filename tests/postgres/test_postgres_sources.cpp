// pipeline::postgres::keyset_source on PostgreSQL: the source contract, types, composite keys,
// filters and projections, resuming, rows that do not convert, and values that are never SQL.
#include <pipeline/postgres/postgres.hpp>

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "postgres/postgres_test_support.hpp"
#include "support/source_reading.hpp"
#include "support/relational_contracts.hpp"

namespace {

using namespace pipeline::postgres;
using pipeline::record;
using pipeline::value;

using pipeline::test::ids_of;
using pipeline::test::read_all;

// A table of `count` rows (id, name), read in pages of 3.
struct keyset_source_factory {
  using source_type = keyset_source;
  auto make_source(std::size_t count) -> std::unique_ptr<keyset_source> {
    postgres_test::exec(*db_, fmt::format("CREATE TABLE \"{}\" (id BIGINT PRIMARY KEY, name TEXT)", table_));
    for (std::size_t i = 0; i < count; ++i) {
      postgres_test::exec(*db_, fmt::format("INSERT INTO \"{}\" VALUES ({}, 'row-{}')", table_, i, i));
    }
    return std::make_unique<keyset_source>(
        keyset_source::open(db_, {.table = table_, .key_columns = {"id"}, .batch_size = 3}).value());
  }
  static auto make_record(std::size_t i) -> record {
    return {{"id", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }

 private:
  std::shared_ptr<database> db_ = postgres_test::open_db();
  std::string table_ = postgres_test::table_name("src");
  postgres_test::dropped_tables cleanup_{db_, {table_}};
};

class postgres_keyset_source : public ::testing::Test {
 protected:
  // Rows (grp, id) for id 1 … n, grp = id % 3, a label and a date.
  void fill(std::int64_t n) {
    postgres_test::exec(*db_, fmt::format("CREATE TABLE \"{}\" (grp INT NOT NULL, id BIGINT NOT NULL, label TEXT, "
                                          "joined DATE NOT NULL, PRIMARY KEY (grp, id))",
                                          table_));
    postgres_test::exec(*db_, fmt::format("INSERT INTO \"{}\" SELECT s % 3, s, 'row-' || s, "
                                          "DATE '2024-01-01' + (s % 90) FROM generate_series(1, {}) s",
                                          table_, n));
  }
  std::shared_ptr<database> db_ = postgres_test::open_db();
  std::string table_ = postgres_test::table_name("src");
  postgres_test::dropped_tables cleanup_{db_, {table_}};
};

TEST_F(postgres_keyset_source, reads_every_row_once_in_composite_key_order) {
  fill(100);
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"grp", "id"}, .batch_size = 7}).value();
  auto rows = read_all(src);
  ASSERT_EQ(rows.size(), 100u);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto before = std::pair{rows[i - 1].find("grp")->get<std::int64_t>(), rows[i - 1].find("id")->get<std::int64_t>()};
    const auto now = std::pair{rows[i].find("grp")->get<std::int64_t>(), rows[i].find("id")->get<std::int64_t>()};
    EXPECT_LT(before, now);
  }
}

TEST_F(postgres_keyset_source, a_filter_with_bound_parameters_and_a_projection) {
  fill(30);
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"grp", "id"}, .columns = {"label"},
                                       .filter = "grp = $1 AND label <> $2",
                                       .filter_parameters = {value{std::int64_t{1}}, value{"row-4"}}, .batch_size = 2})
                 .value();
  auto rows = read_all(src);
  EXPECT_EQ(ids_of(rows), (std::vector<std::int64_t>{1, 7, 10, 13, 16, 19, 22, 25, 28}));
  EXPECT_EQ(rows.front(), (record{{"label", "row-1"}, {"grp", 1}, {"id", 1}}));
}

TEST_F(postgres_keyset_source, a_hostile_filter_value_is_only_a_value) {
  fill(5);
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"grp", "id"}, .filter = "label = $1",
                                       .filter_parameters = {value{fmt::format("x'; DROP TABLE \"{}\"; --", table_)}}})
                 .value();
  EXPECT_TRUE(read_all(src).empty());
  EXPECT_EQ(postgres_test::count(*db_, table_), 5);
}

TEST_F(postgres_keyset_source, resumes_after_a_batch_end_and_at_each_record_position) {
  fill(20);
  auto open = [&] {
    return keyset_source::open(db_, {.table = table_, .key_columns = {"grp", "id"}, .batch_size = 6}).value();
  };
  auto src = open();
  std::vector<pipeline::batch<record>> batches;
  auto all = read_all(src, &batches);
  ASSERT_EQ(batches.size(), 4u);
  auto resumed = open();
  ASSERT_TRUE(resumed.seek(batches[1].end));
  auto rest = read_all(resumed);
  EXPECT_EQ(rest, std::vector<record>(all.begin() + 12, all.end()));
  pipeline::test::expect_each_own_position_reads_its_record(batches, open);
  EXPECT_EQ(open().seek(pipeline::position{"not a key"}).error().kind, pipeline::error_kind::invalid_input);
}

TEST_F(postgres_keyset_source, column_types_map_to_values_and_a_row_that_does_not_convert_is_rejected) {
  postgres_test::exec(*db_, fmt::format("CREATE TABLE \"{}\" (id INT PRIMARY KEY, flag BOOLEAN, ratio DOUBLE PRECISION, "
                                        "amount NUMERIC(8,2), raw BYTEA, at TIMESTAMPTZ, day DATE, doc JSONB, note TEXT)",
                                        table_));
  postgres_test::exec(*db_, fmt::format("INSERT INTO \"{}\" VALUES (1, true, 0.5, 12.30, '\\x00ff', "
                                        "'2024-03-01 12:00:00.25+00', '2024-03-02', '{{\"a\": 1}}', NULL), "
                                        "(2, false, 1, 0, '', 'infinity', '2024-03-02', 'null', 'x')",
                                        table_));
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"id"}}).value();
  auto b = src.next_batch({}).value();
  ASSERT_TRUE(b);
  ASSERT_EQ(b->records.size(), 1u);
  const auto at = pipeline::timestamp{std::chrono::sys_days{std::chrono::year{2024} / 3 / 1}} + std::chrono::hours{12} +
                  std::chrono::milliseconds{250};
  EXPECT_EQ(b->records[0], (record{{"id", 1}, {"flag", true}, {"ratio", 0.5}, {"amount", "12.30"},
                                   {"raw", pipeline::bytes{std::byte{0}, std::byte{0xff}}}, {"at", at},
                                   {"day", pipeline::timestamp{std::chrono::sys_days{std::chrono::year{2024} / 3 / 2}}},
                                   {"doc", R"({"a": 1})"}, {"note", value{}}}));
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].reason.kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT(b->rejected[0].reason.message, ::testing::HasSubstr("infinity"));
}

TEST_F(postgres_keyset_source, bad_options_throw_before_any_sql_and_a_missing_table_is_permanent) {
  EXPECT_THROW((void)keyset_source::open(db_, {.table = table_, .key_columns = {}}), std::invalid_argument);
  EXPECT_THROW((void)keyset_source::open(db_, {.table = "t; DROP", .key_columns = {"id"}}), std::invalid_argument);
  EXPECT_THROW((void)keyset_source::open(db_, {.table = table_, .key_columns = {"id"}, .filter = "id = $2",
                                               .filter_parameters = {value{1}}}),
               std::invalid_argument);
  auto missing = keyset_source::open(db_, {.table = table_, .key_columns = {"id"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(missing.error().native_code, sqlstate_code("42P01"));
}

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_keyset_source, source_contract, ::testing::Types<keyset_source_factory>);
}  // namespace pipeline::testing
