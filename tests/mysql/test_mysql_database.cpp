// pipeline::mysql::database: URIs, connecting, errors classified with the server's code, and
// names checked before any SQL is sent.
#include <pipeline/mysql/mysql.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mysql/mysql_test_support.hpp"
#include "support/captured_log.hpp"

namespace {

using namespace pipeline::mysql;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

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

TEST(mysql_uri, sets_the_outage_budget_in_milliseconds) {
  database_options options;
  (void)endpoint::parse("mysql://u@h/db?outage-budget-ms=1500&ssl-mode=REQUIRED", &options);
  EXPECT_EQ(options.outage_budget, std::chrono::milliseconds{1500});
  EXPECT_TRUE(options.tls.required);
  for (const char* bad : {"mysql://u@h/db?outage-budget-ms=-1", "mysql://u@h/db?outage-budget-ms=1s",
                          "mysql://u@h/db?outage-budget-ms="}) {
    EXPECT_THROW((void)endpoint::parse(bad, &options), std::invalid_argument) << bad;
  }
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

TEST(mysql_database, a_refused_connection_without_an_outage_budget_is_transient_at_once) {
  const int port = mysql_test::free_port();
  auto r = database::open(fmt::format("mysql://u:p@127.0.0.1:{}/db", port),
                          {.connect_timeout = std::chrono::seconds{2}, .outage_budget = 0ms});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient) << fmt::format("{}", r.error());
  EXPECT_THAT(r.error().native_code, ::testing::AnyOf(2002, 2003));
}

TEST(mysql_database, a_server_away_longer_than_the_budget_is_a_transient_error_saying_so) {
  const int port = mysql_test::free_port();
  const auto start = std::chrono::steady_clock::now();
  auto r = database::open(fmt::format("mysql://u:p@127.0.0.1:{}/db", port),
                          {.connect_timeout = std::chrono::seconds{2}, .outage_budget = 700ms});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient);
  EXPECT_THAT(r.error().native_code, ::testing::AnyOf(2002, 2003));
  EXPECT_THAT(r.error().message, HasSubstr("longer than the outage budget (0.7 s)"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 650ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
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

// Kills the session of the connection `db` has pooled, from another connection.
void kill_pooled_session(database& db) {
  auto id = query_int64(db, "SELECT CONNECTION_ID()").value().at(0).value();
  mysql_test::exec(*mysql_test::open_db(), fmt::format("KILL CONNECTION {}", id));
}

TEST(mysql_database, a_read_on_a_killed_session_runs_again_on_a_new_one) {
  auto db = mysql_test::open_db();
  kill_pooled_session(*db);
  auto read = query_int64(*db, "SELECT 1");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->at(0), 1);
}

// A write may have committed before its connection was lost: it is not sent again.
TEST(mysql_database, a_write_on_a_killed_session_fails_transient_and_the_next_call_reconnects) {
  auto db = mysql_test::open_db();
  const auto table = mysql_test::table_name("killed_write");
  mysql_test::exec(*db, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY)", table));
  mysql_test::dropped_tables cleanup{db, {table}};
  kill_pooled_session(*db);
  auto write = execute(*db, fmt::format("INSERT INTO `{}` VALUES (1)", table));
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().kind, pipeline::error_kind::transient) << fmt::format("{}", write.error());
  EXPECT_EQ(mysql_test::count(*db, table), 0);
  EXPECT_TRUE(execute(*db, fmt::format("INSERT INTO `{}` VALUES (1)", table)));
}

TEST(mysql_database, without_an_outage_budget_a_killed_session_fails_a_read_as_transient) {
  auto db = database::open(mysql_test::uri(), {.outage_budget = 0ms}).value();
  kill_pooled_session(*db);
  auto r = query_int64(*db, "SELECT 1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient) << fmt::format("{}", r.error());
  EXPECT_EQ(query_int64(*db, "SELECT 2").value().at(0), 2);
}

// A mariadbd of the test's own, with a database on it opened while the server was up, and a
// restart of it `delay` from now on another thread.
struct restarted_server {
  restarted_server() {
    server.start();
    db = database::open(server.uri(), {.connect_timeout = 2s, .log = log.logger()}).value();
  }
  [[nodiscard]] auto restart_after(std::chrono::milliseconds delay) -> std::jthread {
    return std::jthread{[this, delay] {
      std::this_thread::sleep_for(delay);
      server.start();
    }};
  }
  mysql_test::private_server server;
  pipeline::test::captured_log log;
  std::shared_ptr<database> db;
};

TEST(mysql_outage, a_server_down_at_open_is_waited_for_and_logged) {
  mysql_test::private_server server;
  server.start();
  server.kill_now();
  pipeline::test::captured_log log;
  std::jthread restart{[&] {
    std::this_thread::sleep_for(1s);
    server.start();
  }};
  const auto start = std::chrono::steady_clock::now();
  auto db = database::open(server.uri(), {.connect_timeout = 2s, .log = log.logger()});
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(log.count("waiting up to 300.0 s for it to come back"), 1u);
  EXPECT_EQ(log.count("is back after"), 1u);
}

TEST(mysql_outage, a_keyset_page_whose_server_restarts_is_read_again) {
  restarted_server s;
  mysql_test::exec(*s.db, "CREATE TABLE t (id BIGINT PRIMARY KEY)");
  mysql_test::exec(*s.db, "INSERT INTO t SELECT seq FROM seq_1_to_100");
  auto source = keyset_source::open(s.db, {.table = "t", .key_columns = {"id"}, .batch_size = 60}).value();
  ASSERT_EQ(source.next_batch({}).value()->records.size(), 60u);
  s.server.kill_now();
  auto restart = s.restart_after(1s);
  auto page = source.next_batch({});
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ((*page)->records.size(), 40u);
  EXPECT_EQ((*page)->records.front().find("id")->get<std::int64_t>(), 61);
  EXPECT_EQ(s.log.count("is back after"), 1u);
}

// A write whose connection was lost may have committed: it fails transient, and the next
// call's connect waits for the server; a stop ends that wait.
TEST(mysql_outage, a_write_whose_server_went_away_fails_transient_and_is_not_sent_again) {
  restarted_server s;
  mysql_test::exec(*s.db, "CREATE TABLE t (id BIGINT PRIMARY KEY)");
  auto sink = table_sink::open(s.db, {.table = "t", .columns = {"id"}}).value();
  s.server.kill_now();
  auto write = execute(*s.db, "INSERT INTO t VALUES (1)");
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().kind, pipeline::error_kind::transient);

  std::stop_source stop;
  std::jthread stopper{[&] {
    std::this_thread::sleep_for(300ms);
    stop.request_stop();
  }};
  const auto start = std::chrono::steady_clock::now();
  auto stopped = sink.write(std::vector<pipeline::record>{{{"id", std::int64_t{2}}}}, stop.get_token());
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().kind, pipeline::error_kind::stopped);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);

  auto restart = s.restart_after(1s);
  EXPECT_TRUE(execute(*s.db, "INSERT INTO t VALUES (3)"));
  EXPECT_EQ(query_int64(*s.db, "SELECT COUNT(*), SUM(id) FROM t").value(),
            (std::vector<std::optional<std::int64_t>>{1, 3}));
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
