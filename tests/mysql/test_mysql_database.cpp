// pipeline::mysql::database: URIs, connecting, errors classified with the server's code, and
// names checked before any SQL is sent.
#include <pipeline/mysql/mysql.hpp>

#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mysql/mysql_test_support.hpp"

namespace {

using namespace pipeline::mysql;
using ::testing::HasSubstr;

TEST(mysql_uri, parses_every_part_and_decodes_percent_escapes) {
  tls_options tls;
  const auto e = endpoint::parse("mysql://etl%40corp:p%40ss%3Aword@db.example:3307/shop%5F1?ssl-ca=/ca.pem&ssl-mode=VERIFY_IDENTITY",
                                 &tls);
  EXPECT_EQ(e.user, "etl@corp");
  EXPECT_EQ(e.password, "p@ss:word");
  EXPECT_EQ(e.host, "db.example");
  EXPECT_EQ(e.port, 3307);
  EXPECT_EQ(e.database, "shop_1");
  EXPECT_EQ(tls.ca, "/ca.pem");
  EXPECT_TRUE(tls.required);
  EXPECT_TRUE(tls.verify_server_cert);
}

TEST(mysql_uri, port_defaults_to_3306) { EXPECT_EQ(endpoint::parse("mysql://u@h/db").port, 3306); }

TEST(mysql_uri, malformed_uris_throw_saying_why) {
  for (const char* bad : {"postgres://u@h/db", "mysql://u@:3306/db", "mysql://u@h:0/db", "mysql://u@h:99999/db",
                          "mysql://u@h:12x/db", "mysql://u%4@h/db", "mysql://u%00@h/db", "mysql://u@h/db?nope=1"}) {
    tls_options tls;
    EXPECT_THROW((void)endpoint::parse(bad, &tls), std::invalid_argument) << bad;
  }
}

TEST(mysql_database, a_wrong_password_is_permanent_with_the_server_code) {
  auto e = endpoint::parse(mysql_test::uri());
  auto r = database::open(fmt::format("mysql://{}:wrong@{}:{}/{}", e.user, e.host, e.port, e.database));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(r.error().native_code, 1045);
  EXPECT_EQ(r.error().backend, "mysql");
  EXPECT_THAT(r.error().message, HasSubstr("Access denied"));
}

TEST(mysql_database, a_refused_connection_is_transient) {
  const int port = mysql_test::free_port();
  auto r = database::open(fmt::format("mysql://u:p@127.0.0.1:{}/db", port), {.connect_timeout = std::chrono::seconds{2}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient) << fmt::format("{}", r.error());
  EXPECT_THAT(r.error().native_code, ::testing::AnyOf(2002, 2003));
}

TEST(mysql_database, query_int64_reads_integers_and_nulls) {
  auto db = mysql_test::open_db();
  auto row = query_int64(*db, "SELECT 7, NULL, SUM(3)").value();
  ASSERT_EQ(row.size(), 3u);
  EXPECT_EQ(row[0], 7);
  EXPECT_FALSE(row[1].has_value());
  EXPECT_EQ(row[2], 3);
  EXPECT_EQ(query_int64(*db, "SELECT 'x'").error().kind, pipeline::error_kind::permanent);
}

TEST(mysql_database, a_killed_session_is_transient_and_the_next_call_reconnects) {
  auto db = mysql_test::open_db();
  auto id = query_int64(*db, "SELECT CONNECTION_ID()").value().at(0).value();
  auto other = mysql_test::open_db();
  mysql_test::exec(*other, fmt::format("KILL CONNECTION {}", id));
  auto r = query_int64(*db, "SELECT 1");  // the pooled connection was killed
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient) << fmt::format("{}", r.error());
  EXPECT_EQ(query_int64(*db, "SELECT 2").value().at(0), 2);
}

// Each hostile name is refused by the constructor, before any SQL reaches the server: the
// table a name tries to drop is still there afterwards.
TEST(mysql_safety, hostile_names_are_rejected_before_any_sql_is_sent) {
  auto db = mysql_test::open_db();
  const auto victim = mysql_test::table_name("victim");
  mysql_test::dropped_tables cleanup{db, {victim}};
  mysql_test::exec(*db, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY)", victim));
  const std::vector<std::string> hostile{fmt::format("users; DROP TABLE {}", victim),
                                         fmt::format("x` ; DROP TABLE `{}", victim),
                                         std::string{"users\0x", 7},
                                         "",
                                         "naïve",
                                         std::string(65, 'a'),
                                         "1users"};
  for (const auto& name : hostile) {
    EXPECT_THROW((void)table_sink::open(db, {.table = name, .columns = {"id"}}), std::invalid_argument);
    EXPECT_THROW((void)table_sink::open(db, {.table = victim, .columns = {"id", name}}), std::invalid_argument);
    EXPECT_THROW((void)checkpoint_store::open(db, {.table = name}), std::invalid_argument);
    EXPECT_THROW((void)dead_letter_table::open(db, {.table = name}), std::invalid_argument);
    EXPECT_THROW((void)job_log::open(db, {.table = name}), std::invalid_argument);
    EXPECT_THROW((void)keyset_source::open(db, {.table = name, .key_columns = {"id"}}), std::invalid_argument);
    EXPECT_THROW((void)keyset_source::open(db, {.table = victim, .key_columns = {name}}), std::invalid_argument);
    EXPECT_THROW((void)plan_key_ranges(*db, victim, name, 2), std::invalid_argument);
  }
  try {
    (void)table_sink::open(db, {.table = "a`b", .columns = {"id"}});
    FAIL() << "a backtick in a name was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("mysql::table_sink::open: options.table"));
    EXPECT_THAT(e.what(), HasSubstr("is not an identifier"));
  }
  EXPECT_EQ(mysql_test::count(*db, victim), 0);  // still there
}

TEST(mysql_safety, values_are_bound_never_spliced) {
  auto db = mysql_test::open_db();
  const auto t = mysql_test::table_name("inject");
  mysql_test::dropped_tables cleanup{db, {t}};
  mysql_test::exec(*db, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, s TEXT)", t));
  const std::vector<std::string> evil{fmt::format("x'); DROP TABLE `{}`; --", t), "\\' OR 1=1 --",
                                      std::string{"nul\0inside", 10}, "`; SELECT SLEEP(5); --", "\"quoted\""};
  std::vector<pipeline::record> rows;
  for (std::size_t i = 0; i < evil.size(); ++i) rows.push_back({{"id", static_cast<std::int64_t>(i)}, {"s", evil[i]}});
  auto sink = table_sink::open(db, {.table = t, .columns = {"id", "s"}}).value();
  ASSERT_TRUE(sink.write(rows, {}));
  auto back = mysql_test::rows(db, fmt::format("SELECT id, s FROM `{}` ORDER BY id", t));
  EXPECT_EQ(back, rows);
  // And through a filter parameter: matches only the row holding exactly that text.
  auto src = keyset_source::open(db, {.table = t, .key_columns = {"id"}, .filter = "s = ?",
                                      .filter_parameters = {evil[1]}}).value();
  auto b = src.next_batch({}).value();
  ASSERT_TRUE(b);
  ASSERT_EQ(b->records.size(), 1u);
  EXPECT_EQ(b->records[0], rows[1]);
}

}  // namespace
