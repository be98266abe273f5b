// pipeline::run from a MySQL table to a MySQL table with the checkpoints, dead letters and
// job log in MySQL: bad rows isolated, and the run completing with every row once in effect
// while its sessions are killed or its server is restarted.
#include <pipeline/any_job_log_store.hpp>
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/runner.hpp>

#include <atomic>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mysql/mysql_test_support.hpp"

namespace {

using namespace pipeline::mysql;
using namespace std::chrono_literals;
using pipeline::record;

// The transform: a label made from the id (`bad` ids get one too long for the column).
auto labelled(const std::set<std::int64_t>& bad) {
  return [&bad](const record& r) -> pipeline::result<record> {
    const auto id = r.find("id")->get<std::int64_t>();
    record out{{"id", id}, {"label", bad.contains(id) ? std::string(40, 'x') : fmt::format("item-{}", id)}};
    return out;
  };
}

// Tables of one test on one server: source `src` (ids 1..n), target `dst`, and the stores.
struct copy_tables {
  copy_tables(std::shared_ptr<database> database, std::int64_t n, bool keyed) : db(std::move(database)) {
    cleanup.db = db;
    cleanup.names = {src, dst, checkpoints, dlq, log};
    mysql_test::exec(*db, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, v INT)", src));
    mysql_test::exec(*db, fmt::format("INSERT INTO `{}` SELECT seq, seq FROM seq_1_to_{}", src, n));
    mysql_test::exec(*db, fmt::format("CREATE TABLE `{}` (id BIGINT{}, label VARCHAR(16) NOT NULL)", dst,
                                      keyed ? " PRIMARY KEY" : ""));
  }
  std::shared_ptr<database> db;
  std::string src = mysql_test::table_name("src");
  std::string dst = mysql_test::table_name("dst");
  std::string checkpoints = mysql_test::table_name("cp");
  std::string dlq = mysql_test::table_name("dlq");
  std::string log = mysql_test::table_name("log");
  mysql_test::dropped_tables cleanup{};
};

auto fast_retry(pipeline::runner_options options) -> pipeline::runner_options {
  options.retry.initial = 5ms;
  options.retry.max_delay = 200ms;
  options.retry.max_attempts = 0;
  options.retry.max_elapsed = 60s;
  options.checkpoint_interval = 0ms;
  return options;
}

TEST(mysql_runner, three_bad_rows_of_a_thousand_go_to_the_dlq_with_the_server_message_and_997_are_written_once) {
  auto db = mysql_test::open_db();
  copy_tables t{db, 1000, false};  // no key on the target: a row written twice would show
  const std::set<std::int64_t> bad{17, 500, 999};
  auto source = keyset_source::open(db, {.table = t.src, .key_columns = {"id"}, .batch_size = 1000}).value();
  auto sink = table_sink::open(db, {.table = t.dst, .columns = {"id", "label"}}).value();
  auto dlq = dead_letter_table::open(db, {.table = t.dlq}).value();
  auto checkpoints = checkpoint_store::open(db, {.table = t.checkpoints}).value();
  auto log = job_log::open(db, {.table = t.log}).value();
  pipeline::any_job_log_store any_log{std::ref(log)};
  pipeline::runner_options options = fast_retry({});
  options.name = "copy";
  options.workers = 2;
  options.job_log = &any_log;

  const auto report = pipeline::run(source, labelled(bad), sink, dlq, checkpoints, options);
  ASSERT_EQ(report.status, pipeline::run_status::completed) << (report.failure ? report.failure->message : "");
  EXPECT_EQ(report.read, 1000u);
  EXPECT_EQ(report.written, 997u);
  EXPECT_EQ(report.dead_lettered, 3u);
  EXPECT_EQ(mysql_test::count(*db, t.dst), 997);
  EXPECT_EQ(query_int64(*db, fmt::format("SELECT COUNT(DISTINCT id) FROM `{}`", t.dst)).value().at(0), 997);
  EXPECT_EQ(query_int64(*db, fmt::format("SELECT COUNT(*) FROM `{}` WHERE id IN (17, 500, 999)", t.dst)).value().at(0),
            0);

  auto letters = dlq.read(0, 100).value();
  ASSERT_EQ(letters.size(), 3u);
  std::set<std::string> payloads;
  for (const auto& [id, letter] : letters) {
    // Found by the sink's check of the column metadata, before the rows were sent.
    EXPECT_EQ(letter.reason.kind, pipeline::error_kind::invalid_input);
    EXPECT_EQ(letter.reason.native_code, 1406);
    EXPECT_EQ(letter.reason.backend, "mysql");
    EXPECT_THAT(letter.reason.message, ::testing::HasSubstr("Data too long for column 'label'"));
    payloads.insert(letter.payload);
  }
  for (auto id : bad) EXPECT_THAT(payloads, ::testing::Contains(::testing::HasSubstr(fmt::format("id: {},", id))));

  // A second run resumes after the checkpoint: nothing read, nothing written again.
  const auto second = pipeline::run(source, labelled(bad), sink, dlq, checkpoints, options);
  EXPECT_EQ(second.status, pipeline::run_status::completed);
  EXPECT_EQ(second.read, 0u);
  EXPECT_EQ(mysql_test::count(*db, t.dst), 997);
  auto runs = log.runs("copy", 10).value();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].written, 997u);
  EXPECT_EQ(runs[1].state, pipeline::run_state::completed);
}

// A user of its own, so that the killer kills only this test's sessions.
struct private_user {
  explicit private_user(std::shared_ptr<database> database) : db(std::move(database)) {
    mysql_test::exec(*db, fmt::format("CREATE USER '{}'@'127.0.0.1' IDENTIFIED BY 'pw'", name));
    mysql_test::exec(*db, fmt::format("GRANT ALL ON *.* TO '{}'@'127.0.0.1'", name));
  }
  ~private_user() { (void)execute(*db, fmt::format("DROP USER IF EXISTS '{}'@'127.0.0.1'", name)); }
  [[nodiscard]] auto uri() const -> std::string {
    const auto e = endpoint::parse(mysql_test::uri());
    return fmt::format("mysql://{}:pw@{}:{}/{}", name, e.host, e.port, e.database);
  }
  std::shared_ptr<database> db;
  std::string name = fmt::format("k{}_{}", ::getpid(), std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000);
};

TEST(mysql_runner, killing_the_pipeline_sessions_mid_run_still_writes_every_row_once) {
  constexpr std::int64_t n = 20'000;
  auto admin = mysql_test::open_db();
  private_user user{admin};
  auto db = mysql_test::open_db(user.uri());
  copy_tables t{db, n, true};
  const std::set<std::int64_t> bad{};
  auto source = keyset_source::open(db, {.table = t.src, .key_columns = {"id"}, .batch_size = 200}).value();
  auto sink = table_sink::open(db, {.table = t.dst, .columns = {"id", "label"}, .mode = write_mode::upsert,
                                    .update_columns = {"label"}})
                  .value();
  auto dlq = dead_letter_table::open(db, {.table = t.dlq}).value();
  auto checkpoints = checkpoint_store::open(db, {.table = t.checkpoints}).value();

  std::atomic<bool> finished{false};
  std::atomic<int> kills{0};
  std::thread killer([&] {
    while (!finished && kills < 30) {
      std::this_thread::sleep_for(20ms);
      auto sessions = mysql_test::rows(
          admin, fmt::format("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = '{}'", user.name));
      for (const auto& s : sessions) {
        if (execute(*admin, fmt::format("KILL CONNECTION {}", s.find("id")->get<std::int64_t>()))) ++kills;
      }
    }
  });
  auto options = fast_retry({});
  options.name = "killed";
  options.workers = 3;
  const auto report = pipeline::run(source, labelled(bad), sink, dlq, checkpoints, options);
  finished = true;
  killer.join();
  ASSERT_EQ(report.status, pipeline::run_status::completed) << (report.failure ? report.failure->message : "");
  EXPECT_GT(kills.load(), 0);
  EXPECT_GT(report.retried, 0u);
  EXPECT_EQ(report.dead_lettered, 0u);
  EXPECT_EQ(mysql_test::count(*admin, t.dst), n);
  EXPECT_EQ(query_int64(*admin, fmt::format("SELECT SUM(id) FROM `{}`", t.dst)).value().at(0), n * (n + 1) / 2);
}

TEST(mysql_runner, restarting_the_server_mid_run_still_writes_every_row_once) {
  constexpr std::int64_t n = 30'000;
  mysql_test::private_server server;
  server.start();
  auto db = database::open(server.uri(), {.connect_timeout = 2s, .read_timeout = 10s, .write_timeout = 10s}).value();
  copy_tables t{db, n, true};
  const std::set<std::int64_t> bad{};
  auto source = keyset_source::open(db, {.table = t.src, .key_columns = {"id"}, .batch_size = 100}).value();
  auto sink = table_sink::open(db, {.table = t.dst, .columns = {"id", "label"}, .mode = write_mode::upsert,
                                    .update_columns = {"label"}})
                  .value();
  auto dlq = dead_letter_table::open(db, {.table = t.dlq}).value();
  auto checkpoints = checkpoint_store::open(db, {.table = t.checkpoints}).value();
  auto options = fast_retry({});
  options.name = "restarted";
  options.workers = 2;

  pipeline::run_report report;
  std::thread runner([&] { report = pipeline::run(source, labelled(bad), sink, dlq, checkpoints, options); });
  {
    auto watcher = database::open(server.uri()).value();
    while (query_int64(*watcher, fmt::format("SELECT COUNT(*) FROM `{}`", t.dst)).value().at(0).value_or(0) < n / 5) {
      std::this_thread::sleep_for(5ms);
    }
  }
  server.kill_now();
  std::this_thread::sleep_for(500ms);
  server.start();
  runner.join();
  ASSERT_EQ(report.status, pipeline::run_status::completed) << (report.failure ? report.failure->message : "");
  EXPECT_GT(report.retried, 0u);
  EXPECT_EQ(mysql_test::count(*db, t.dst), n);
  EXPECT_EQ(query_int64(*db, fmt::format("SELECT SUM(id) FROM `{}`", t.dst)).value().at(0), n * (n + 1) / 2);
}

}  // namespace
