// What pipeline-admin reads from MongoDB without changing it: the jobs of a job log, the keys
// of a checkpoint store, whether a collection is there, and the URI's database; against the server scripts/services.sh starts.
#include <pipeline/mongodb/mongodb.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mongodb/mongodb_test_support.hpp"
#include "support/shared_checkpoint_store.hpp"

namespace {

using namespace pipeline::mongodb;

TEST(mongodb_job_log, jobs_are_the_distinct_jobs_with_runs_in_name_order) {
  mongodb_test::test_database db;
  auto log = job_log::open(db.client(), {.database = db.name()}).value();
  EXPECT_EQ(log.jobs().value(), std::vector<std::string>{});
  const auto now = std::chrono::system_clock::now();
  for (const auto* job : {"reports/2026-05", "listings", "reports/2026-05", "archive"}) {
    pipeline::job_run run;
    run.job = job;
    run.created = run.updated = run.lease_until = now;
    (void)log.create(run).value();
  }
  EXPECT_EQ(log.jobs().value(), (std::vector<std::string>{"archive", "listings", "reports/2026-05"}));
}

TEST(mongodb_checkpoint_store, keys_are_the_keys_saved_in_order) {
  mongodb_test::test_database db;
  auto store = checkpoint_store::open(db.client(), {.database = db.name()}).value();
  EXPECT_EQ(store.keys().value(), std::vector<std::string>{});
  for (const auto* key : {"reports/2026-05", "listings/p0", "listings/p1"}) {
    (void)store.save(key, pipeline::position::from_integer(1), 0).value();
  }
  (void)store.save("listings/p0", pipeline::position::from_integer(2), 1).value();
  EXPECT_EQ(store.keys().value(), (std::vector<std::string>{"listings/p0", "listings/p1", "reports/2026-05"}));
}

TEST(mongodb_checkpoint_store, copies_held_as_basic_checkpoint_store_share_the_collection) {
  mongodb_test::test_database db;
  pipeline::test::expect_copies_share_one_store(checkpoint_store::open(db.client(), {.database = db.name()}).value(),
                                                "orders/p3");
}

TEST(mongodb_client, has_collection_tells_whether_it_is_there_and_creates_nothing) {
  mongodb_test::test_database db;
  EXPECT_FALSE(db.client()->has_collection(db.name(), "pipeline_job_runs").value());
  EXPECT_FALSE(db.client()->has_collection(db.name(), "pipeline_job_runs").value());
  (void)job_log::open(db.client(), {.database = db.name()}).value();
  EXPECT_TRUE(db.client()->has_collection(db.name(), "pipeline_job_runs").value());
  EXPECT_FALSE(db.client()->has_collection(db.name(), "pipeline_job_run").value());
}

TEST(mongodb_client, uri_database_is_the_database_the_uri_names) {
  EXPECT_EQ(client::open("mongodb://127.0.0.1:1/etl?appname=x")->uri_database(), "etl");
  EXPECT_EQ(client::open("mongodb://127.0.0.1:1/?appname=x")->uri_database(), "");
  EXPECT_EQ(client::open("mongodb://127.0.0.1:1")->uri_database(), "");
}

}  // namespace
