#pragma once
// What the distributed-queue tests share (tests/redis and tests/fault): numbered records, a
// producer run that fills and closes a queue, and worker processes (redis_worker_process).

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/redis/redis.hpp>

#include "redis/redis_test_support.hpp"
#include "support/services.hpp"

namespace redis_test::queue {

using namespace std::chrono_literals;

// Records {id: 0..n-1, name: "row-<id>"}.
inline auto records(std::int64_t n) -> std::vector<pipeline::record> {
  std::vector<pipeline::record> out;
  for (std::int64_t i = 0; i < n; ++i) out.push_back(pipeline::record{{"id", i}, {"name", "row-" + std::to_string(i)}});
  return out;
}

inline auto all_ids(std::int64_t n) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  return ids;
}

inline auto sorted(std::vector<std::int64_t> v) -> std::vector<std::int64_t> {
  std::sort(v.begin(), v.end());
  return v;
}

// Retries long enough to ride out a server restart.
inline const pipeline::backoff_options patient{.initial = 50ms, .max_delay = 500ms, .max_attempts = 0,
                                               .max_elapsed = 30'000ms};

// The keys of one test's queue, unique per test and process.
struct queue_names {
  std::string stream = pipeline::test::unique_name("q");
  std::string sink = stream + ":sink";
  std::string dlq = stream + ":dead";
  std::string checkpoints = stream + ":cp";
};

// Produces `n` records in batches of `batch` and closes the queue.
inline auto produce(const std::string& uri, const queue_names& names, std::int64_t n, std::size_t batch,
                    pipeline::backoff_options retry = {}) -> pipeline::run_report {
  using namespace pipeline::redis;
  auto c = client::connect({.uri = uri}).value();
  auto producer = stream_producer::open(c, {.stream = names.stream}).value();
  pipeline::vector_source<pipeline::record> source{records(n), batch};
  dead_letter_stream dlq{c, {.stream = names.dlq}};
  checkpoint_store checkpoints{c, {.prefix = names.checkpoints}};
  return run_producer(source, producer, dlq, checkpoints, {.name = "producer", .retry = retry});
}

// The command line of a worker process on the queue (see redis_worker_process.cpp), which
// aborts on the record whose id is `poison` and spends `batch_ms` on each batch.
inline auto worker_argv(const std::string& uri, const queue_names& names, int visibility_ms, int max_deliveries,
                        std::int64_t poison, int batch_ms) -> std::vector<std::string> {
  return {PIPELINE_REDIS_WORKER_PROCESS, uri, names.stream, names.sink, names.dlq, std::to_string(visibility_ms),
          std::to_string(max_deliveries), std::to_string(poison), std::to_string(batch_ms)};
}

inline auto worker_process(const std::string& uri, const queue_names& names, int visibility_ms, int max_deliveries,
                           std::int64_t poison, int batch_ms) -> std::unique_ptr<child_process> {
  return std::make_unique<child_process>(worker_argv(uri, names, visibility_ms, max_deliveries, poison, batch_ms));
}

inline auto exit_code(int status) -> int { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace redis_test::queue
