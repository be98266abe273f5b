// End-to-end throughput of the distributed queue: one producer process and W worker processes
// on one Redis, first message queued → last message processed (workers end when the producer
// has closed the queue and it is drained). The job is trivial (identity into a counting
// sink), so this measures the queue. bench/redis/run.sh runs it beside BullMQ.
//
//   bench_redis_queue --redis URI [--messages N] [--per-message K] [--workers W]
//                     [--exactly-once 0|1] [--wait-replicas R]
// Prints: redis-stream messages=N per_message=K workers=W exactly_once=E wait_replicas=R seconds=S
//         messages_per_s=… records_per_s=…
// --exactly-once 1 runs the producer exactly-once (each batch with its ledger entry);
// --wait-replicas R makes it WAIT for R replicas after each add (bench/redis/durability.sh).
#include <pipeline/pipeline.hpp>
#include <pipeline/redis/redis.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "queue_bench.hpp"

namespace {

using namespace std::chrono;

struct settings {
  std::string redis;
  std::string stream;
  std::int64_t messages = 200'000;
  std::int64_t per_message = 1;
  int workers = 2;
  bool exactly_once = false;
  std::uint32_t wait_replicas = 0;
};

auto producer(const settings& s) -> int {
  auto c = pipeline::redis::client::connect({.uri = s.redis}).value();
  const bool single = s.per_message == 1;
  auto queue = pipeline::redis::stream_producer::open(
                   c, {.stream = s.stream, .max_depth = single ? 200'000u : 200u,
                       .records_per_entry = single ? 1u : 0u, .wait_replicas = s.wait_replicas})
                   .value();
  queue_bench::counting_source source{s.messages * s.per_message, single ? 1000 : s.per_message};
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::runner_options options{.name = "bench", .workers = 2, .queue_capacity = 8};
  options.exactly_once = s.exactly_once;
  auto report = pipeline::redis::run_producer(source, queue, dlq, checkpoints, options);
  return report.status == pipeline::run_status::completed ? 0 : 1;
}

auto worker(const settings& s) -> int {
  const bool single = s.per_message == 1;
  auto consumer = pipeline::redis::stream_consumer::open(
                      {.uri = s.redis}, {.stream = s.stream, .read_count = single ? 500u : 4u, .block = milliseconds{20}})
                      .value();
  queue_bench::counting_sink sink;
  pipeline::memory_dlq dlq;
  auto report = pipeline::redis::run_worker<pipeline::record>(*consumer, pipeline::identity{}, sink, dlq,
                                                             {.name = "bench", .workers = 2, .queue_capacity = 4});
  fmt::print(stderr, "worker: {} records\n", sink.n.load());
  return report.status == pipeline::run_status::completed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  s.stream = fmt::format("bench:{}", ::getpid());
  std::string role = "main";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    if (a == "--redis") s.redis = argv[i + 1];
    else if (a == "--messages") s.messages = std::stoll(argv[i + 1]);
    else if (a == "--per-message") s.per_message = std::stoll(argv[i + 1]);
    else if (a == "--workers") s.workers = std::stoi(argv[i + 1]);
    else if (a == "--role") role = argv[i + 1];
    else if (a == "--stream") s.stream = argv[i + 1];
    else if (a == "--exactly-once") s.exactly_once = std::string_view(argv[i + 1]) == "1";
    else if (a == "--wait-replicas") s.wait_replicas = static_cast<std::uint32_t>(std::stoul(argv[i + 1]));
  }
  if (s.redis.empty() || s.messages <= 0 || s.per_message <= 0 || s.workers <= 0) {
    std::fputs("usage: bench_redis_queue --redis URI [--messages N] [--per-message K] [--workers W]\n", stderr);
    return 2;
  }
  if (role == "producer") return producer(s);
  if (role == "worker") return worker(s);

  // The group first, so that the workers wait on it; the clock starts with the producer.
  auto c = pipeline::redis::client::connect({.uri = s.redis}).value();
  (void)c->command({"XGROUP", "CREATE", s.stream, "workers", "0", "MKSTREAM"});
  const auto timed = queue_bench::time_roles(
      argv[0],
      {"--redis", s.redis, "--stream", s.stream, "--messages", std::to_string(s.messages), "--per-message",
       std::to_string(s.per_message), "--exactly-once", s.exactly_once ? "1" : "0", "--wait-replicas",
       std::to_string(s.wait_replicas)},
      s.workers);
  (void)c->command({"DEL", s.stream, s.stream + ":closed", s.stream + ":ledger:bench"});
  if (!timed) {
    fmt::print(stderr, "bench_redis_queue: a process failed\n");
    return 1;
  }
  const double seconds = *timed;
  fmt::print("redis-stream messages={} per_message={} workers={} exactly_once={} wait_replicas={} seconds={:.2f} "
             "messages_per_s={:.0f} records_per_s={:.0f}\n",
             s.messages, s.per_message, s.workers, s.exactly_once ? 1 : 0, s.wait_replicas, seconds,
             static_cast<double>(s.messages) / seconds,
             static_cast<double>(s.messages * s.per_message) / seconds);
  return 0;
}
