// pipeline::postgres::keyset_source and cursor_source on PostgreSQL: the source contract, types,
// composite keys, filters and projections, resuming, rows that do not convert, values that are
// never SQL, and the partition planners.
#include <pipeline/postgres/postgres.hpp>

#include <chrono>
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

class postgres_sources : public ::testing::Test {
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
  // The ids a cursor over `query` reads after a seek to `rows`.
  auto open_source_at(const std::string& query, std::int64_t rows) -> std::vector<std::int64_t> {
    auto src = cursor_source::open(db_, {.query = query}).value();
    EXPECT_TRUE(src.seek(pipeline::position::from_integer(rows)));
    return ids_of(read_all(src));
  }
  std::shared_ptr<database> db_ = postgres_test::open_db();
  std::string table_ = postgres_test::table_name("src");
  postgres_test::dropped_tables cleanup_{db_, {table_}};
};

TEST_F(postgres_sources, reads_every_row_once_in_composite_key_order) {
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

TEST_F(postgres_sources, a_filter_with_bound_parameters_and_a_projection) {
  fill(30);
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"grp", "id"}, .columns = {"label"},
                                       .filter = "grp = $1 AND label <> $2",
                                       .filter_parameters = {value{std::int64_t{1}}, value{"row-4"}}, .batch_size = 2})
                 .value();
  auto rows = read_all(src);
  EXPECT_EQ(ids_of(rows), (std::vector<std::int64_t>{1, 7, 10, 13, 16, 19, 22, 25, 28}));
  EXPECT_EQ(rows.front(), (record{{"label", "row-1"}, {"grp", 1}, {"id", 1}}));
}

TEST_F(postgres_sources, a_hostile_filter_value_is_only_a_value) {
  fill(5);
  auto src = keyset_source::open(db_, {.table = table_, .key_columns = {"grp", "id"}, .filter = "label = $1",
                                       .filter_parameters = {value{fmt::format("x'; DROP TABLE \"{}\"; --", table_)}}})
                 .value();
  EXPECT_TRUE(read_all(src).empty());
  EXPECT_EQ(postgres_test::count(*db_, table_), 5);
}

TEST_F(postgres_sources, resumes_after_a_batch_end_and_at_each_record_position) {
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

TEST_F(postgres_sources, column_types_map_to_values_and_a_row_that_does_not_convert_is_rejected) {
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

TEST_F(postgres_sources, bad_options_throw_before_any_sql_and_a_missing_table_is_permanent) {
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

TEST_F(postgres_sources, a_cursor_streams_in_batches_and_seek_moves_past_the_rows_handed_out) {
  fill(2500);
  const auto query = fmt::format("SELECT id FROM \"{}\" ORDER BY id", table_);
  pipeline::test::expect_cursor_reads_in_batches_and_resumes_at_a_count([&](std::size_t batch_size) {
    return cursor_source::open(db_, {.query = query, .batch_size = batch_size}).value();
  });
  EXPECT_EQ(open_source_at(query, 2500), std::vector<std::int64_t>{});  // a seek past the end reads nothing
  auto src = cursor_source::open(db_, {.query = query}).value();
  EXPECT_EQ(src.seek(pipeline::position{"not a count"}).error().kind, pipeline::error_kind::invalid_input);
}

TEST_F(postgres_sources, a_cursor_binds_its_parameters_and_a_hostile_value_is_only_a_value) {
  fill(30);
  auto src = cursor_source::open(db_, {.query = fmt::format("SELECT id FROM \"{}\" WHERE grp = $1 AND label <> $2 "
                                                            "ORDER BY id", table_),
                                       .parameters = {value{std::int64_t{1}}, value{"row-4"}}, .batch_size = 4})
                 .value();
  EXPECT_EQ(ids_of(read_all(src)), (std::vector<std::int64_t>{1, 7, 10, 13, 16, 19, 22, 25, 28}));
  auto hostile = cursor_source::open(db_, {.query = fmt::format("SELECT id FROM \"{}\" WHERE label = $1", table_),
                                           .parameters = {value{fmt::format("x'; DROP TABLE \"{}\"; --", table_)}}})
                     .value();
  EXPECT_TRUE(read_all(hostile).empty());
  EXPECT_EQ(postgres_test::count(*db_, table_), 30);
}

TEST_F(postgres_sources, a_cursor_gives_each_record_the_count_before_it_and_rejects_what_does_not_convert) {
  fill(30);
  pipeline::test::expect_each_record_positioned_at_the_count_before_it([&] {
    return cursor_source::open(db_, {.query = fmt::format("SELECT id FROM \"{}\" ORDER BY id", table_), .batch_size = 7})
        .value();
  });
  auto odd = cursor_source::open(db_, {.query = "SELECT * FROM (VALUES (1, 'infinity'::timestamptz), "
                                                "(2, '2024-03-01 00:00:00+00'::timestamptz)) v(id, at) ORDER BY id"})
                 .value();
  auto b = odd.next_batch({}).value();
  ASSERT_TRUE(b);
  ASSERT_EQ(b->records.size(), 1u);
  ASSERT_EQ(b->rejected.size(), 1u);
  EXPECT_EQ(b->rejected[0].reason.kind, pipeline::error_kind::invalid_input);
  EXPECT_EQ(b->rejected[0].pos, pipeline::position::from_integer(1));
  EXPECT_EQ(b->rejected[0].payload, "1\tinfinity");
}

TEST_F(postgres_sources, an_abandoned_cursor_closes_at_once_without_reading_the_rest) {
  const auto start = std::chrono::steady_clock::now();
  {
    auto src = cursor_source::open(db_, {.query = "SELECT a, b FROM generate_series(1, 100000) a, generate_series(1, 100000) b",
                                         .batch_size = 10})
                   .value();
    ASSERT_TRUE(src.next_batch({}).value());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{20});
  EXPECT_EQ(query_int64(*db_, "SELECT 1").value().at(0), 1);
}

TEST_F(postgres_sources, a_cursor_whose_session_is_terminated_fails_transient_then_resumes_after_what_it_handed_out) {
  fill(100);
  // Each row carries the pid of the session that holds the cursor.
  auto src = cursor_source::open(db_, {.query = fmt::format("SELECT id, pg_backend_pid() AS pid FROM \"{}\" ORDER BY id",
                                                            table_),
                                       .batch_size = 30})
                 .value();
  auto first = src.next_batch({}).value();
  ASSERT_TRUE(first);
  postgres_test::rows(fmt::format("SELECT pg_terminate_backend({})", first->records.front().find("pid")->get<std::int64_t>()));
  auto lost = src.next_batch({});
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().kind, pipeline::error_kind::transient) << fmt::format("{}", lost.error());
  const auto rest = ids_of(read_all(src));
  ASSERT_EQ(rest.size(), 70u);
  EXPECT_EQ(rest.front(), 31);
}

TEST_F(postgres_sources, a_bad_cursor_query_is_a_permanent_error_and_bad_options_throw) {
  auto src = cursor_source::open(db_, {.query = "SELECT * FROM no_such_table_here"}).value();
  auto r = src.next_batch({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(r.error().native_code, sqlstate_code("42P01"));
  EXPECT_THROW((void)cursor_source::open(db_, {.query = ""}), std::invalid_argument);
  EXPECT_THROW((void)cursor_source::open(db_, {.query = "SELECT 1", .batch_size = 0}), std::invalid_argument);
  EXPECT_THROW((void)cursor_source::open(nullptr, {.query = "SELECT 1"}), std::invalid_argument);
}

TEST_F(postgres_sources, key_range_partitions_cover_the_table_once_and_refuse_what_is_no_integer_key) {
  fill(1000);
  const auto plan = plan_key_ranges(*db_, table_, "id", 4).value();
  const auto read_range = [&](const pipeline::partition& p) {
    return keyset_source::open(db_, restrict_to({.table = table_, .key_columns = {"id"}, .batch_size = 100}, p, "id"))
        .value();
  };
  pipeline::test::expect_ids_split_evenly(pipeline::test::ids_by_partition(plan, read_range), 250);
  EXPECT_EQ(plan_key_ranges(*db_, table_, "joined", 2).error().kind, pipeline::error_kind::permanent);
  EXPECT_THROW((void)plan_key_ranges(*db_, table_, "id; DROP TABLE x", 2), std::invalid_argument);
  EXPECT_THROW((void)plan_key_ranges(*db_, table_, "id", 0), std::invalid_argument);
}

TEST_F(postgres_sources, date_partitions_number_their_values_after_the_filter_parameters) {
  fill(900);  // joined: 2024-01-01 + id % 90 days: January, February, March
  const auto months = plan_date_intervals(*db_, table_, "joined", pipeline::interval_unit::month).value();
  ASSERT_EQ(months.size(), 3u);
  EXPECT_EQ(months.front().name, "2024-01");
  EXPECT_EQ(months.back().name, "2024-03");
  const auto read_month = [&](const pipeline::partition& month) {
    auto options = restrict_to({.table = table_, .key_columns = {"grp", "id"}, .filter = "grp >= $1",
                                .filter_parameters = {0}},
                               month, "joined");
    EXPECT_EQ(options.filter, "(grp >= $1) AND \"joined\" >= $2 AND \"joined\" < $3");
    return keyset_source::open(db_, std::move(options)).value();
  };
  EXPECT_EQ(pipeline::test::sizes_of(pipeline::test::ids_by_partition(months, read_month)),
            (std::vector<std::size_t>{310, 290, 300}));  // 31, 29 and 30 days × 10
  EXPECT_THROW((void)restrict_to({.table = table_, .key_columns = {"id"}}, pipeline::plan_hash_buckets(2)[0], "id"),
               std::invalid_argument);
  auto empty_table = postgres_test::table_name("empty");
  postgres_test::dropped_tables cleanup{db_, {empty_table}};
  postgres_test::exec(*db_, fmt::format("CREATE TABLE \"{}\" (id BIGINT PRIMARY KEY, at TIMESTAMPTZ)", empty_table));
  EXPECT_TRUE(plan_key_ranges(*db_, empty_table, "id", 3).value().empty());
  EXPECT_TRUE(plan_date_intervals(*db_, empty_table, "at", pipeline::interval_unit::day).value().empty());
}

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_keyset_source, source_contract,
                               ::testing::Types<pipeline::test::server_keyset_source_factory<postgres_test::server>>);
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_cursor_source, source_contract,
                               ::testing::Types<pipeline::test::server_cursor_source_factory<postgres_test::server>>);
}  // namespace pipeline::testing
