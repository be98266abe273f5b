// The console's JSON API over a real SQLite file and a real Redis (scripts/services.sh),
// through a plain HTTP client: what it shows, who may change what, and the effects of the
// changes, read back from the stores themselves.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <pipeline/console/console.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/detail/frame.hpp>
#include <pipeline/redis/redis.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include "console/console_test_support.hpp"
#include "support/admin_stores.hpp"
#include "support/services.hpp"

namespace {

using namespace console_test;
using pipeline::test::hostile_payload;
using pipeline::test::hostile_reason;

class console_sqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / pipeline::test::unique_name("console") += ".db";
    db_ = pipeline::sqlite::database::open(path_.string()).value();
    namespace relational = pipeline::detail::relational;
    auto log = relational::job_log<pipeline::sqlite::database>::open(db_, {}).value();
    auto checkpoints = relational::checkpoint_store<pipeline::sqlite::database>::open(db_, {}).value();
    letters_ = std::make_unique<relational::dead_letter_table<pipeline::sqlite::database>>(
        relational::dead_letter_table<pipeline::sqlite::database>::open(db_, {}).value());
    pipeline::test::fill_admin_stores(log, checkpoints, *letters_);
    letters_->write(pipeline::test::hostile_letters(), {}).value();
    checkpoints_ = std::make_unique<relational::checkpoint_store<pipeline::sqlite::database>>(std::move(checkpoints));
  }
  void TearDown() override { std::filesystem::remove(path_); }

  auto start(pipeline::admin::console_options options) -> std::unique_ptr<served_console> {
    std::vector<pipeline::admin::console_store> stores;
    stores.push_back({"state.db", pipeline::admin::open_store(path_.string(), {}).value(), {}});
    return std::make_unique<served_console>(std::move(stores), std::move(options));
  }
  static auto options() -> pipeline::admin::console_options {
    pipeline::admin::console_options o;
    o.token = std::string(token);
    return o;
  }
  auto pending_letters() -> std::size_t { return letters_->read({}, std::nullopt, 1000, {}).value().size(); }

  std::filesystem::path path_;
  std::shared_ptr<pipeline::sqlite::database> db_;
  std::unique_ptr<pipeline::detail::relational::dead_letter_table<pipeline::sqlite::database>> letters_;
  std::unique_ptr<pipeline::detail::relational::checkpoint_store<pipeline::sqlite::database>> checkpoints_;
};

TEST_F(console_sqlite, reads_need_the_token_unless_reads_are_open) {
  auto web = start(options());
  auto c = web->client();
  auto refused = c.Get("/api/runs");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(c.Get("/api/runs", bearer("s3cret-tokeX"))->status, 401);  // same length, one byte off
  EXPECT_EQ(c.Get("/api/runs", bearer("s3cret"))->status, 401);
  EXPECT_EQ(c.Get("/api/runs", bearer(token))->status, 200);
  EXPECT_EQ(c.Get("/")->status, 200);  // the page itself holds no data
}

TEST_F(console_sqlite, open_reads_serve_reads_without_the_token_but_not_changes) {
  auto o = options();
  o.open_reads = true;
  auto web = start(std::move(o));
  auto c = web->client();
  EXPECT_EQ(c.Get("/api/letters")->status, 200);
  EXPECT_EQ(c.Post("/api/purge?kind=permanent")->status, 401);
  EXPECT_EQ(pending_letters(), 6U);
}

TEST_F(console_sqlite, runs_show_every_job_with_the_progress_of_running_ones) {
  auto web = start(options());
  const auto runs = body_json(web->client().Get("/api/runs", bearer(token)));
  ASSERT_EQ(runs.size(), 3U) << runs.dump();  // listings: crashed and completed; reports: running
  bool saw_crashed = false;
  bool saw_running = false;
  for (const auto& run : runs) {
    if (run["state"] == "crashed") {
      saw_crashed = true;
      EXPECT_EQ(run["owner"], "elsewhere:4242");
      EXPECT_TRUE(run["progress"].is_null());
    }
    if (run["state"] == "running") {
      saw_running = true;
      EXPECT_EQ(run["job"], "reports/2026-05");
      EXPECT_EQ(run["progress"]["done"], 0);
      EXPECT_TRUE(run["progress"]["total"].is_null());
    }
  }
  EXPECT_TRUE(saw_crashed);
  EXPECT_TRUE(saw_running);
}

TEST_F(console_sqlite, a_known_total_gives_done_of_total_and_an_eta) {
  auto o = options();
  o.total_of = [](std::string_view job) -> std::optional<std::uint64_t> {
    if (job == "reports/2026-05") return 100;
    return std::nullopt;
  };
  auto web = start(std::move(o));
  const auto runs = body_json(web->client().Get("/api/runs?job=reports/2026-05", bearer(token)));
  ASSERT_EQ(runs.size(), 1U);
  EXPECT_EQ(runs[0]["progress"]["total"], 100);
  EXPECT_TRUE(runs[0]["progress"]["eta_seconds"].is_null());  // nothing done yet: no rate
}

TEST_F(console_sqlite, letters_keep_html_as_data_and_cut_long_payloads) {
  auto web = start(options());
  auto c = web->client();
  const auto page = body_json(c.Get("/api/letters?kind=invalid_input", bearer(token)));
  ASSERT_EQ(page["letters"].size(), 2U) << page.dump();
  const auto& hostile = page["letters"][1];
  EXPECT_EQ(hostile["payload"], hostile_payload);  // as it is: the page sets it as text
  EXPECT_EQ(hostile["message"], hostile_reason);

  const auto big = body_json(c.Get("/api/letters?text=too%20large", bearer(token)));
  ASSERT_EQ(big["letters"].size(), 1U);
  EXPECT_EQ(big["letters"][0]["payload"].get<std::string>().size(), 4096U);
  EXPECT_EQ(big["letters"][0]["payload_bytes"], 10240);
  EXPECT_EQ(big["letters"][0]["truncated"], true);
  const auto id = big["letters"][0]["id"].get<std::string>();

  const auto whole = body_json(c.Get("/api/letter?id=" + id, bearer(token)));
  EXPECT_EQ(whole["payload"].get<std::string>().size(), 10240U);
  EXPECT_EQ(whole["truncated"], false);
  auto raw = c.Get("/api/letter/payload?id=" + id, bearer(token));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->body, std::string(10240, 'x'));
  EXPECT_EQ(raw->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(raw->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(c.Get("/api/letter?id=999", bearer(token))->status, 404);
}

TEST_F(console_sqlite, reasons_group_letters_with_counts) {
  auto web = start(options());
  const auto reasons = body_json(web->client().Get("/api/reasons", bearer(token)));
  ASSERT_EQ(reasons["complete"], true);
  ASSERT_GE(reasons["reasons"].size(), 1U);
  EXPECT_EQ(reasons["reasons"][0]["message"], "duplicate key");
  EXPECT_EQ(reasons["reasons"][0]["count"], 2);
  EXPECT_EQ(reasons["scanned"], 6);
}

TEST_F(console_sqlite, purge_needs_the_token_and_removes_what_matches) {
  auto web = start(options());
  auto c = web->client();
  EXPECT_EQ(c.Post("/api/purge?kind=permanent&job=listings")->status, 401);
  EXPECT_EQ(c.Post("/api/purge?kind=permanent&job=listings", bearer("wrong"), "", "text/plain")->status, 401);
  EXPECT_EQ(pending_letters(), 6U);
  auto purged = c.Post("/api/purge?kind=permanent&job=listings", bearer(token), "", "text/plain");
  ASSERT_TRUE(purged);
  EXPECT_EQ(purged->status, 200) << purged->body;
  EXPECT_EQ(json::parse(purged->body)["purged"], 3);
  EXPECT_EQ(pending_letters(), 3U);
}

TEST_F(console_sqlite, checkpoint_reset_needs_the_token_and_starts_over) {
  auto web = start(options());
  auto c = web->client();
  EXPECT_EQ(c.Post("/api/checkpoint/reset?key=listings/p0")->status, 401);
  auto reset = c.Post("/api/checkpoint/reset?key=listings/p0", bearer(token), "", "text/plain");
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->status, 200) << reset->body;
  const auto cp = checkpoints_->load("listings/p0").value();
  EXPECT_TRUE(cp.pos.empty());
  EXPECT_EQ(cp.version, 2U);
}

TEST_F(console_sqlite, replay_is_refused_for_a_store_that_is_not_redis) {
  auto web = start(options());
  auto c = web->client();
  auto replay = c.Post("/api/replay?queue=q", bearer(token), "", "text/plain");
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 400);
  EXPECT_EQ(pending_letters(), 6U);
}

TEST_F(console_sqlite, without_a_token_changes_are_off) {
  auto o = options();
  o.token.clear();
  o.open_reads = true;
  auto web = start(std::move(o));
  auto c = web->client();
  EXPECT_EQ(c.Post("/api/purge", bearer(""), "", "text/plain")->status, 403);
  EXPECT_EQ(pending_letters(), 6U);
}

TEST_F(console_sqlite, metrics_serve_the_registry_given) {
  pipeline::metrics_registry registry;
  registry.register_counter("console_test_total", "A counter the test reads back.").inc(7);
  auto o = options();
  o.metrics = &registry;
  auto web = start(std::move(o));
  auto c = web->client();
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  auto metrics = c.Get("/metrics", bearer(token));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("console_test_total 7"), std::string::npos) << metrics->body;
}

TEST_F(console_sqlite, no_stores_or_two_of_one_name_are_refused) {
  std::vector<pipeline::admin::console_store> none;
  EXPECT_THROW(pipeline::admin::console(std::move(none), {}), std::invalid_argument);
  std::vector<pipeline::admin::console_store> twins;
  twins.push_back({"state", pipeline::admin::open_store(path_.string(), {}).value(), {}});
  twins.push_back({"state", pipeline::admin::open_store(path_.string(), {}).value(), {}});
  EXPECT_THROW(pipeline::admin::console(std::move(twins), {}), std::invalid_argument);
}

class console_redis : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = pipeline::test::service_uri("PIPELINE_REDIS_TEST_URI");
    prefix_ = pipeline::test::unique_name("console");
    client_ = pipeline::redis::client::connect({.uri = uri_}).value();
    pipeline::redis::job_log log{client_, {.prefix = prefix_}};
    pipeline::redis::checkpoint_store checkpoints{client_, {.prefix = prefix_}};
    letters_ = std::make_unique<pipeline::redis::dead_letter_stream>(
        client_, pipeline::redis::dead_letter_stream_options{.stream = prefix_ + ":dead"});
    pipeline::test::fill_admin_stores(log, checkpoints, *letters_);
    letters_->write(pipeline::test::hostile_letters(), {}).value();
    (void)client_->command({"XGROUP", "CREATE", queue(), "workers", "$", "MKSTREAM"}).value();
  }
  void TearDown() override {
    auto keys = client_->command({"KEYS", prefix_ + "*"});
    if (keys) {
      for (const auto& k : keys->elements) (void)client_->command({"DEL", k.str});
    }
  }
  [[nodiscard]] auto queue() const -> std::string { return prefix_ + ":queue"; }
  auto start() -> std::unique_ptr<served_console> {
    std::vector<pipeline::admin::console_store> stores;
    pipeline::admin::store_names names;
    names.prefix = prefix_;
    stores.push_back({"redis", pipeline::admin::open_store(uri_, names).value(), {queue()}});
    pipeline::admin::console_options o;
    o.token = std::string(token);
    return std::make_unique<served_console>(std::move(stores), std::move(o));
  }
  auto length(const std::string& key) -> long long { return client_->command({"XLEN", key}).value().integer; }

  std::string uri_;
  std::string prefix_;
  std::shared_ptr<pipeline::redis::client> client_;
  std::unique_ptr<pipeline::redis::dead_letter_stream> letters_;
};

TEST_F(console_redis, replay_moves_a_letter_onto_the_queue_only_with_the_token) {
  auto web = start();
  auto c = web->client();
  const auto hostile = body_json(c.Get("/api/letters?kind=invalid_input&text=script", bearer(token)));
  ASSERT_EQ(hostile["letters"].size(), 1U);
  const auto id = hostile["letters"][0]["id"].get<std::string>();
  const auto path = fmt::format("/api/replay?queue={}&id={}", queue(), id);

  EXPECT_EQ(c.Post(path)->status, 401);
  EXPECT_EQ(length(queue()), 0);
  EXPECT_EQ(length(prefix_ + ":dead"), 6);

  auto replayed = c.Post(path, bearer(token), "", "text/plain");
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->status, 200) << replayed->body;
  EXPECT_EQ(json::parse(replayed->body)["requeued"], 1);
  EXPECT_EQ(length(prefix_ + ":dead"), 5);
  // On the queue as a producer frames one record, for the workers' decoder.
  const auto entries = client_->command({"XRANGE", queue(), "-", "+"}).value();
  ASSERT_EQ(entries.elements.size(), 1U);
  const auto& fields = entries.elements[0].elements[1].elements;
  ASSERT_EQ(fields.size(), 2U);
  EXPECT_EQ(fields[0].str, "b");
  pipeline::detail::frame_reader frame(fields[1].str);
  EXPECT_EQ(frame.next(), hostile_payload);
  EXPECT_FALSE(frame.next());

  // Gone from the DLQ: a second replay of it finds nothing.
  EXPECT_EQ(c.Post(path, bearer(token), "", "text/plain")->status, 404);
  EXPECT_EQ(length(queue()), 1);
}

TEST_F(console_redis, replay_by_filter_moves_every_match) {
  auto web = start();
  auto c = web->client();
  auto replayed = c.Post(fmt::format("/api/replay?queue={}&kind=permanent&job=listings", queue()), bearer(token), "",
                         "text/plain");
  ASSERT_TRUE(replayed);
  EXPECT_EQ(json::parse(replayed->body)["requeued"], 3) << replayed->body;
  EXPECT_EQ(length(queue()), 3);
  pipeline::dead_letter_filter replayed_ones;
  replayed_ones.kind = pipeline::error_kind::permanent;
  replayed_ones.job = "listings";
  EXPECT_EQ(letters_->read(replayed_ones, std::nullopt, 100, {}).value().size(), 0U);
}

TEST_F(console_redis, replay_onto_a_stream_the_console_was_not_given_is_refused) {
  auto web = start();
  auto c = web->client();
  auto refused = c.Post("/api/replay?queue=elsewhere&kind=permanent", bearer(token), "", "text/plain");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(length(prefix_ + ":dead"), 6);
}

TEST_F(console_redis, queue_shows_the_stream_and_its_group) {
  auto web = start();
  const auto q = body_json(web->client().Get("/api/queue?stream=" + queue(), bearer(token)));
  EXPECT_EQ(q["length"], 0);
  ASSERT_EQ(q["groups"].size(), 1U);
  EXPECT_EQ(q["groups"][0]["name"], "workers");
}

}  // namespace
