#pragma once

/// The contract every `pipeline::job_log_store` keeps, as a GoogleTest typed suite you run
/// against your own store in your own test binary (link `pipeline::testing`).
///
///     struct my_log_factory {
///       using store_type = my_job_log;                       // models job_log_store
///       auto make_store() -> std::unique_ptr<my_job_log>;    // an empty store
///     };
///     INSTANTIATE_TYPED_TEST_SUITE_P(my_log, job_log_store_contract, ::testing::Types<my_log_factory>);

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <pipeline/job_run.hpp>

namespace pipeline::testing {

template <class Factory>
class job_log_store_contract : public ::testing::Test {
 protected:
  using store_type = typename Factory::store_type;
  static_assert(job_log_store<store_type>, "Factory::store_type must model pipeline::job_log_store");

  static auto at(int seconds) -> std::chrono::system_clock::time_point {
    return std::chrono::system_clock::time_point{std::chrono::seconds{1'790'000'000 + seconds}};
  }
  static auto a_run(std::string job) -> job_run {
    job_run r;
    r.job = std::move(job);
    r.state = run_state::running;
    r.owner = "host-a:4242";
    r.read = 1000;
    r.written = 990;
    r.dead_lettered = 10;
    r.retried = 3;
    r.created = at(0);
    r.updated = at(5);
    r.lease_until = at(35);
    r.message = "running with 'quotes' and \"more\"";
    return r;
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(job_log_store_contract);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(job_log_store_contract);

TYPED_TEST_P(job_log_store_contract, a_created_run_reads_back_with_every_field_and_its_id) {
  auto store = this->factory_.make_store();
  auto run = this->a_run("listings");
  auto id = store->create(run);
  ASSERT_TRUE(id) << fmt::format("{}", id.error());
  run.id = *id;
  auto runs = store->runs("listings", 10);
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->front(), run);
}

TYPED_TEST_P(job_log_store_contract, ids_increase) {
  auto store = this->factory_.make_store();
  auto a = store->create(this->a_run("j"));
  auto b = store->create(this->a_run("j"));
  ASSERT_TRUE(a && b);
  EXPECT_GT(*b, *a);
}

TYPED_TEST_P(job_log_store_contract, runs_come_newest_first_limited_and_only_for_that_job) {
  auto store = this->factory_.make_store();
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(*store->create(this->a_run("mine")));
  ASSERT_TRUE(store->create(this->a_run("other")));
  auto runs = store->runs("mine", 3);
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].id, ids[4]);
  EXPECT_EQ((*runs)[1].id, ids[3]);
  EXPECT_EQ((*runs)[2].id, ids[2]);
  EXPECT_TRUE(store->runs("nobody", 10)->empty());
}

TYPED_TEST_P(job_log_store_contract, update_replaces_the_run_with_that_id) {
  auto store = this->factory_.make_store();
  auto run = this->a_run("j");
  run.id = *store->create(run);
  run.state = run_state::completed;
  run.written = 1000;
  run.updated = this->at(60);
  run.message = "done";
  ASSERT_TRUE(store->update(run));
  EXPECT_EQ(store->runs("j", 1)->front(), run);
}

TYPED_TEST_P(job_log_store_contract, updating_an_unknown_run_is_not_found) {
  auto store = this->factory_.make_store();
  auto run = this->a_run("j");
  run.id = 424242;
  auto r = store->update(run);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::not_found);
}

TYPED_TEST_P(job_log_store_contract, every_state_round_trips) {
  auto store = this->factory_.make_store();
  for (auto s : {run_state::pending, run_state::running, run_state::completed, run_state::failed, run_state::stopped,
                 run_state::crashed}) {
    auto run = this->a_run(std::string("state-") + std::string(to_string(s)));
    run.state = s;
    ASSERT_TRUE(store->create(run));
    EXPECT_EQ(store->runs(run.job, 1)->front().state, s);
  }
}

TYPED_TEST_P(job_log_store_contract, concurrent_creates_get_distinct_ids) {
  auto store = this->factory_.make_store();
  std::vector<std::uint64_t> ids(8);
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      threads.emplace_back([&, i] { ids[i] = store->create(this->a_run("race")).value_or(0); });
    }
  }
  EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_EQ(store->runs("race", 100)->size(), ids.size());
}

REGISTER_TYPED_TEST_SUITE_P(job_log_store_contract, a_created_run_reads_back_with_every_field_and_its_id, ids_increase,
                            runs_come_newest_first_limited_and_only_for_that_job,
                            update_replaces_the_run_with_that_id, updating_an_unknown_run_is_not_found,
                            every_state_round_trips, concurrent_creates_get_distinct_ids);

}  // namespace pipeline::testing
