// pipeline::postgres::database: URIs, connecting, errors classified by SQLSTATE, a lost
// connection replaced, and names checked before any SQL is sent.
#include <pipeline/postgres/postgres.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "postgres/postgres_test_support.hpp"

namespace {

using namespace pipeline::postgres;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(postgres_uri, malformed_uris_and_bad_options_throw_saying_why) {
  for (const char* bad : {"mysql://u@h/db", "postgresql://u@h:99999/db", "postgresql://u@h:12x/db",
                          "postgresql://u@h/db?nope=1", "postgresql://u@h/db?sslmode=sometimes",
                          "postgresql://u@h/db?connect_timeout=soon", "postgresql://u@h/db?outage-budget-ms=-1",
                          "postgresql://u@h/db?outage-budget-ms=1s"}) {
    EXPECT_THROW((void)database::open(bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW((void)database::open(postgres_test::uri(), {.connect_timeout = -1s}), std::invalid_argument);
}

TEST(postgres_database, where_tells_the_parts_of_the_uri_but_not_the_password) {
  auto db = postgres_test::open_db(postgres_test::uri() + "?sslmode=disable&application_name=pipeline_test");
  EXPECT_EQ(db->where().user, "pipe");
  EXPECT_EQ(db->where().host, "127.0.0.1");
  EXPECT_EQ(db->where().database, "pipe");
  EXPECT_EQ(db->where().sslmode, "disable");
  EXPECT_NE(db->where().port, 0);
}

TEST(postgres_database, a_wrong_password_is_permanent) {
  const auto at = postgres_test::uri().find('@');
  auto r = database::open("postgresql://pipe:wrong" + postgres_test::uri().substr(at));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(r.error().backend, "postgres");
  EXPECT_THAT(r.error().message, HasSubstr("password authentication failed"));
}

TEST(postgres_database, a_refused_connection_without_an_outage_budget_is_transient_at_once) {
  auto r = database::open("postgresql://u:p@127.0.0.1:1/db", {.connect_timeout = 2s, .outage_budget = 0ms});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient) << fmt::format("{}", r.error());
  EXPECT_EQ(r.error().native_code, sqlstate_code("08001"));
}

// Each SQLSTATE raised by the server itself, classified as database.hpp says.
TEST(postgres_database, errors_are_classified_by_sqlstate) {
  auto db = postgres_test::open_db();
  const std::vector<std::pair<std::string, pipeline::error_kind>> cases{
      {"40001", pipeline::error_kind::transient},     {"40P01", pipeline::error_kind::transient},
      {"08006", pipeline::error_kind::transient},     {"57014", pipeline::error_kind::transient},
      {"23505", pipeline::error_kind::permanent},     {"23502", pipeline::error_kind::permanent},
      {"22001", pipeline::error_kind::invalid_input}, {"22P02", pipeline::error_kind::invalid_input},
      {"42P01", pipeline::error_kind::permanent}};
  for (const auto& [state, kind] : cases) {
    auto r = execute(*db, fmt::format("DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '{}'; END $$", state));
    ASSERT_FALSE(r) << state;
    EXPECT_EQ(r.error().kind, kind) << state;
    EXPECT_EQ(r.error().native_code, sqlstate_code(state)) << state;
    EXPECT_THAT(r.error().message, HasSubstr(fmt::format("[{}]", state)));
  }
}

TEST(postgres_database, a_terminated_connection_fails_transient_once_and_is_replaced) {
  auto db = postgres_test::open_db();
  const auto pid = query_int64(*db, "SELECT pg_backend_pid()").value().at(0).value();
  postgres_test::rows(fmt::format("SELECT pg_terminate_backend({})", pid));
  auto lost = execute(*db, "SELECT 1");
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().kind, pipeline::error_kind::transient) << fmt::format("{}", lost.error());
  EXPECT_TRUE(execute(*db, "SELECT 1"));
  EXPECT_NE(query_int64(*db, "SELECT pg_backend_pid()").value().at(0).value(), pid);
}

TEST(postgres_database, a_read_whose_connection_was_terminated_runs_again_on_a_new_one) {
  auto db = postgres_test::open_db();
  const auto pid = query_int64(*db, "SELECT pg_backend_pid()").value().at(0).value();
  postgres_test::rows(fmt::format("SELECT pg_terminate_backend({})", pid));
  EXPECT_EQ(query_int64(*db, "SELECT 41 + 1").value().at(0), 42);
}

TEST(postgres_database, query_int64_reads_integers_and_nulls_and_refuses_text) {
  auto db = postgres_test::open_db();
  auto row = query_int64(*db, "SELECT 7::int, NULL::bigint, -3::smallint").value();
  EXPECT_EQ(row, (std::vector<std::optional<std::int64_t>>{7, std::nullopt, -3}));
  EXPECT_EQ(query_int64(*db, "SELECT 'x'").error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(query_int64(*db, "SELECT 1 WHERE false").error().kind, pipeline::error_kind::not_found);
}

TEST(postgres_database, names_that_are_not_identifiers_are_refused_before_any_sql) {
  auto db = postgres_test::open_db();
  for (const char* bad : {"t; DROP TABLE x", "t\"", "", "1t"}) {
    EXPECT_THROW((void)checkpoint_store::open(db, {.table = bad}), std::invalid_argument) << bad;
    EXPECT_THROW((void)table_sink::open(db, {.table = bad, .columns = {"a"}}), std::invalid_argument) << bad;
    EXPECT_THROW((void)table_sink::open(db, {.table = "t", .columns = {bad}}), std::invalid_argument) << bad;
  }
  EXPECT_THROW((void)job_log::open(nullptr, {}), std::invalid_argument);
}

}  // namespace
