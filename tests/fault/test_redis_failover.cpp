// A Redis Cluster master fails over, and the client follows: on a cluster of the test's own
// (three masters, one replica, started and killed by the test, so the suite's shared cluster
// is not disturbed), a manual failover turns the old master into a replica that answers MOVED,
// and a crashed master's slots pass to its promoted replica, which only a fresh slot map names.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <pipeline/redis/client.hpp>
#include <pipeline/redis/detail/slot.hpp>

#include "redis/redis_test_support.hpp"
#include "support/run_command.hpp"

namespace {

using namespace std::chrono_literals;
using pipeline::redis::client;
using redis_test::private_server;

auto node(const private_server& s) -> std::string { return fmt::format("127.0.0.1:{}", s.port()); }

auto direct(const private_server& s) -> std::shared_ptr<client> { return redis_test::connect(s.uri()); }

// Polls `done` every 50 ms for up to `limit`.
template <class Predicate>
auto eventually(Predicate done, std::chrono::milliseconds limit) -> bool {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

auto info_says(const private_server& s, const std::string& section, std::string_view line) -> bool {
  auto r = direct(s)->command({"INFO", section});
  return r && r->str.find(line) != std::string::npos;
}

// The port of the master that node `s` says holds `slot`; 0 when it knows none.
auto master_port(const private_server& s, std::uint16_t slot) -> std::int64_t {
  auto r = direct(s)->command({"CLUSTER", "SLOTS"});
  if (!r) return 0;
  for (const auto& range : r->elements) {
    if (range.elements.size() >= 3 && range.elements[0].integer <= slot && slot <= range.elements[1].integer) {
      return range.elements[2].elements.at(1).integer;
    }
  }
  return 0;
}

TEST(redis_failover, the_client_follows_a_manual_failover_and_reaches_the_replica_promoted_after_a_crash) {
  const std::vector<std::string> cluster_node{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                              "--cluster-node-timeout", "1000"};
  std::vector<std::unique_ptr<private_server>> servers;
  for (int i = 0; i < 4; ++i) servers.push_back(std::make_unique<private_server>(cluster_node));
  auto& replica = *servers[3];
  pipeline::test::run_command(fmt::format("redis-cli --cluster create {} {} {} --cluster-replicas 0 --cluster-yes",
                                          node(*servers[0]), node(*servers[1]), node(*servers[2])));
  for (int i = 0; i < 3; ++i) {
    const auto& s = *servers[static_cast<std::size_t>(i)];
    ASSERT_TRUE(eventually(
        [&] {
          auto r = direct(s)->command({"CLUSTER", "INFO"});
          return r && r->str.find("cluster_state:ok") != std::string::npos;
        },
        10s));
  }
  const std::string key = "{failover}:count";
  const auto slot = pipeline::redis::detail::key_slot(key);
  private_server* first_master = nullptr;
  for (int i = 0; i < 3; ++i) {
    if (master_port(*servers[0], slot) == servers[static_cast<std::size_t>(i)]->port()) {
      first_master = servers[static_cast<std::size_t>(i)].get();
    }
  }
  ASSERT_NE(first_master, nullptr);
  const auto master_id = direct(*first_master)->command({"CLUSTER", "MYID"}).value().str;
  pipeline::test::run_command(fmt::format("redis-cli --cluster add-node {} {} --cluster-slave --cluster-master-id {}",
                                          node(replica), node(*first_master), master_id));
  ASSERT_TRUE(eventually([&] { return info_says(replica, "replication", "master_link_status:up"); }, 15s));

  // The client enters through a master that does not hold the key.
  const auto& seed = first_master == servers[0].get() ? *servers[1] : *servers[0];
  auto c = client::connect({.uri = seed.uri(), .connect_timeout = 500ms, .command_timeout = 1000ms}).value();
  ASSERT_EQ(c->command({"INCR", key}).value().integer, 1);
  ASSERT_EQ(direct(*first_master)->command({"WAIT", "1", "2000"}).value().integer, 1) << "not replicated";

  // Manual failover: the old master becomes a replica and answers MOVED.
  ASSERT_EQ(direct(replica)->command({"CLUSTER", "FAILOVER"}).value().str, "OK");
  ASSERT_TRUE(eventually([&] { return info_says(replica, "replication", "role:master"); }, 10s));
  ASSERT_TRUE(eventually([&] { return info_says(*first_master, "replication", "master_link_status:up"); }, 15s));
  auto after_manual = c->command({"INCR", key});
  ASSERT_TRUE(after_manual) << after_manual.error().message;
  EXPECT_EQ(after_manual->integer, 2);
  ASSERT_EQ(direct(replica)->command({"WAIT", "1", "2000"}).value().integer, 1) << "not replicated";

  // Crash: the master dies without a word; the cluster promotes its replica (the first master)
  // after the node timeout. Calls fail with transient errors until then, and then reach it.
  replica.kill();
  pipeline::result<pipeline::redis::reply> after_crash = pipeline::transient_error("not tried");
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until) {
    after_crash = c->command({"INCR", key});
    if (after_crash) break;
    ASSERT_EQ(after_crash.error().kind, pipeline::error_kind::transient) << after_crash.error().message;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(after_crash) << "never reached the promoted replica: " << after_crash.error().message;
  EXPECT_EQ(after_crash->integer, 3);
  EXPECT_EQ(master_port(seed, slot), first_master->port());
}

}  // namespace
