// The client and the queue on a 3-master Redis Cluster (scripts/services.sh starts one): the
// client follows MOVED redirects, and a queue whose keys share a hash tag works end to end.
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/redis/redis.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "redis/hash_sink.hpp"
#include "redis/redis_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace pipeline::redis;
using pipeline::record;

auto cluster_nodes() -> std::vector<std::string> {
  const auto all = pipeline::test::service_uri("PIPELINE_REDIS_CLUSTER_TEST_NODES");
  std::vector<std::string> out;
  for (std::size_t start = 0; start <= all.size();) {
    const auto comma = std::min(all.find(',', start), all.size());
    out.push_back("redis://" + all.substr(start, comma - start) + "/0");
    start = comma + 1;
  }
  return out;
}

TEST(redis_cluster, the_cluster_has_three_masters_holding_different_keys) {
  auto nodes = cluster_nodes();
  ASSERT_EQ(nodes.size(), 3u);
  // Without following redirects, some of these keys would be answered with MOVED errors.
  std::set<std::int64_t> slots;
  auto c = redis_test::connect(nodes.front());
  for (int i = 0; i < 30; ++i) {
    const auto key = fmt::format("{}:{}", pipeline::test::unique_name("k"), i);
    slots.insert(c->command({"CLUSTER", "KEYSLOT", key}).value().integer);
  }
  EXPECT_GT(slots.size(), 20u);
}

TEST(redis_cluster, commands_follow_moved_redirects_to_the_node_with_the_slot) {
  auto nodes = cluster_nodes();
  for (const auto& entry : nodes) {
    auto c = redis_test::connect(entry);  // each node is the wrong one for some of the keys
    for (int i = 0; i < 20; ++i) {
      const auto key = fmt::format("{}:{}", pipeline::test::unique_name("k"), i);
      auto set = c->command({"SET", key, std::to_string(i)});
      ASSERT_TRUE(set) << set.error().message;
      auto get = c->command({"GET", key});
      ASSERT_TRUE(get) << get.error().message;
      EXPECT_EQ(get->str, std::to_string(i));
    }
    // Pipelines too (one slot per pipeline: keys with one hash tag).
    const auto tag = "{" + pipeline::test::unique_name("t") + "}";
    const std::vector<std::vector<std::string>> commands{{"SET", tag + ":a", "1"}, {"INCR", tag + ":a"}};
    auto replies = c->pipeline(commands);
    ASSERT_TRUE(replies) << replies.error().message;
    EXPECT_EQ(replies->back().integer, 2);
  }
}

TEST(redis_cluster, stores_work_under_a_hash_tag_prefix) {
  auto c = redis_test::connect(cluster_nodes().front());
  const auto tag = "{" + pipeline::test::unique_name("s") + "}";
  checkpoint_store checkpoints{c, {.prefix = tag}};
  ASSERT_TRUE(checkpoints.save("p0", pipeline::position::from_integer(7), 0));
  EXPECT_EQ(checkpoints.load("p0").value().pos, pipeline::position::from_integer(7));
  EXPECT_EQ(checkpoints.save("p0", pipeline::position::from_integer(8), 0).error().kind, pipeline::error_kind::conflict);
  job_log log{c, {.prefix = tag}};
  pipeline::job_run run;
  run.job = "j";
  run.id = log.create(run).value();
  EXPECT_EQ(log.runs("j", 5).value().front().id, run.id);
  counter_store counts{c, {.name = tag + ":counts"}};
  ASSERT_TRUE(counts.add("x", 3));
  auto f = counts.begin_flush().value();
  EXPECT_EQ(f.counts.front().second, 3);
  ASSERT_TRUE(counts.confirm_flush(f.id));
}

TEST(redis_cluster, a_producer_and_two_workers_move_every_record_once) {
  auto nodes = cluster_nodes();
  const auto tag = "{" + pipeline::test::unique_name("q") + "}";
  const auto stream = tag + ":queue";
  {
    auto c = redis_test::connect(nodes[0]);
    auto producer = stream_producer::open(c, {.stream = stream}).value();
    std::vector<record> input;
    for (std::int64_t i = 0; i < 1000; ++i) input.push_back(record{{"id", i}});
    pipeline::vector_source<record> source{input, 25};
    dead_letter_stream dlq{c, {.stream = tag + ":dead"}};
    checkpoint_store checkpoints{c, {.prefix = tag}};
    auto report = run_producer(source, producer, dlq, checkpoints, {.name = "producer"});
    ASSERT_EQ(report.status, pipeline::run_status::completed) << (report.failure ? report.failure->message : "");
  }
  std::vector<pipeline::run_report> reports(2);
  {
    std::vector<std::jthread> workers;
    for (std::size_t w = 0; w < reports.size(); ++w) {
      workers.emplace_back([&, w] {
        // Each worker enters the cluster through another node.
        auto consumer = stream_consumer::open({.uri = nodes[w + 1]}, {.stream = stream, .block = 100ms}).value();
        redis_test::hash_sink sink{redis_test::connect(nodes[w + 1]), tag + ":sink"};
        pipeline::memory_dlq dlq;
        reports[w] = run_worker<record>(*consumer, pipeline::identity{}, sink, dlq, {.name = "w", .workers = 2});
      });
    }
  }
  for (auto& r : reports) EXPECT_EQ(r.status, pipeline::run_status::completed);
  redis_test::hash_sink sink{redis_test::connect(nodes[0]), tag + ":sink"};
  auto ids = sink.ids();
  std::sort(ids.begin(), ids.end());
  ASSERT_EQ(ids.size(), 1000u);
  for (std::int64_t i = 0; i < 1000; ++i) EXPECT_EQ(ids[static_cast<std::size_t>(i)], i);
}

}  // namespace
