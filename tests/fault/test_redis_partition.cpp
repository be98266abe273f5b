// Worker hosts cut off from Redis: three worker processes, each on a test host of its own (a
// network namespace on a veth link to the Redis host), move a queue into an idempotent sink.
// Cutting one host's link mid-run leaves its entries pending with no connection reset; the other
// hosts reclaim them after the visibility timeout and finish the queue. When the link heals, the
// cut-off worker reconnects, finds the queue drained and ends normally.
//
// Redis listens on the Redis host's veth addresses: inside a namespace that has no link but
// these, so nothing outside this machine's test namespaces can reach it.
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "redis/hash_sink.hpp"
#include "redis/queue_test_support.hpp"
#include "redis/redis_test_support.hpp"
#include "support/network_namespace.hpp"

namespace {

using namespace std::chrono_literals;
using namespace redis_test::queue;
using pipeline::test::network_namespace;
using pipeline::test::veth_link;

// The ids of the entries pending on the consumer of process `pid` ("<host>:<pid>:<n>").
auto pending_of(pipeline::redis::client& c, const queue_names& names, pid_t pid) -> std::vector<std::string> {
  std::vector<std::string> ids;
  const auto summary = c.command({"XPENDING", names.stream, "workers"}).value();
  if (summary.elements.size() < 4) return ids;
  for (const auto& consumer : summary.elements[3].elements) {
    const auto& name = consumer.elements.at(0).str;
    if (name.find(fmt::format(":{}:", pid)) == std::string::npos) continue;
    const auto rows = c.command({"XPENDING", names.stream, "workers", "-", "+", "1000", name}).value();
    for (const auto& row : rows.elements) ids.push_back(row.elements.at(0).str);
  }
  return ids;
}

TEST(redis_partition, a_cut_off_worker_host_has_its_entries_reclaimed_and_rejoins_when_the_link_heals) {
  ASSERT_EQ(::geteuid(), 0u) << "network namespaces need root (the test command runs as root)";
  constexpr int hosts = 3;
  const auto prefix = fmt::format("pl{}", ::getpid());
  network_namespace redis_host{prefix + "r"};
  std::vector<std::unique_ptr<network_namespace>> worker_hosts;
  std::vector<std::unique_ptr<veth_link>> links;
  std::vector<std::string> bind{"--bind", "127.0.0.1"};
  for (int i = 0; i < hosts; ++i) {
    worker_hosts.push_back(std::make_unique<network_namespace>(fmt::format("{}w{}", prefix, i)));
    links.push_back(std::make_unique<veth_link>(
        veth_link::end{redis_host, fmt::format("vr{}", i), fmt::format("10.91.{}.1", i)},
        veth_link::end{*worker_hosts.back(), fmt::format("vw{}", i), fmt::format("10.91.{}.2", i)}));
    bind.push_back(fmt::format("10.91.{}.1", i));
  }
  // This thread (the producer, the checks and the server it starts) lives on the Redis host.
  const pipeline::test::inside_namespace on_redis_host{redis_host};
  bind.insert(bind.end(), {"--protected-mode", "no"});
  redis_test::private_server server{bind};
  const queue_names names;
  auto produced = produce(server.uri(), names, 3000, 20);
  ASSERT_EQ(produced.status, pipeline::run_status::completed);

  std::vector<std::unique_ptr<redis_test::child_process>> workers;
  for (int i = 0; i < hosts; ++i) {
    const auto uri = fmt::format("redis://10.91.{}.1:{}/0", i, server.port());
    workers.push_back(std::make_unique<redis_test::child_process>(
        worker_hosts[static_cast<std::size_t>(i)]->exec(worker_argv(uri, names, 1000, 5, -1, 50))));
  }
  auto c = redis_test::connect(server.uri());
  redis_test::hash_sink sink{c, names.sink};
  for (int i = 0; i < 1000 && sink.size() < 300; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(sink.size(), 300) << "the workers did not start";
  ASSERT_LT(sink.size(), 3000) << "too late to cut a link mid-run";

  auto& cut_off = *workers.front();
  links.front()->cut();
  std::this_thread::sleep_for(100ms);  // acknowledgements already on the wire land
  const auto stranded = pending_of(*c, names, cut_off.pid());
  ASSERT_FALSE(stranded.empty()) << "the cut-off worker held no entries";

  for (int i = 1; i < hosts; ++i) {
    auto& w = *workers[static_cast<std::size_t>(i)];
    ASSERT_TRUE(w.wait_for(60s)) << "a connected worker did not finish";
    EXPECT_EQ(exit_code(w.status()), 0);
  }
  EXPECT_FALSE(cut_off.wait_for(0ms)) << "the cut-off worker cannot have finished";
  EXPECT_TRUE(pending_of(*c, names, cut_off.pid()).empty()) << "its entries were not reclaimed";
  EXPECT_EQ(sorted(sink.ids()), all_ids(3000));
  EXPECT_EQ(c->command({"XLEN", names.dlq}).value().integer, 0);

  links.front()->heal();
  ASSERT_TRUE(cut_off.wait_for(60s)) << "the cut-off worker did not end after the link healed";
  EXPECT_EQ(exit_code(cut_off.status()), 0) << "it rejoins, finds the queue drained and completes";
  EXPECT_EQ(sorted(sink.ids()), all_ids(3000));
  auto consumer = pipeline::redis::stream_consumer::open({.uri = server.uri()}, {.stream = names.stream}).value();
  EXPECT_EQ(consumer->depth().value().total(), 0u);
}

}  // namespace
