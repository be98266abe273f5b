// A worker process for the multi-process queue tests: runs the worker role on a queue into a
// hash_sink and a dead-letter stream, and crashes (abort) on the record whose id is <poison>,
// as a worker with a fatal bug would.
//
//   redis_worker_process <uri> <stream> <sink key> <dlq stream> <visibility ms> <max deliveries>
//                        <poison id or -1> <ms of work per batch>
// Exit status: 0 completed, 1 failed, 2 stopped, 3 bad arguments.
#include <pipeline/redis/redis.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "redis/hash_sink.hpp"

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fputs("usage: redis_worker_process uri stream sink dlq visibility_ms max_deliveries poison_id batch_ms\n", stderr);
    return 3;
  }
  using namespace std::chrono;
  const std::string uri = argv[1];
  const auto poison = std::stoll(argv[7]);
  const auto work = milliseconds{std::stoll(argv[8])};
  pipeline::logger log{pipeline::stderr_log_callback(), pipeline::log_level::info};
  pipeline::redis::connection_options conn{.uri = uri, .log = log};
  auto consumer = pipeline::redis::stream_consumer::open(
      conn, {.stream = argv[2], .read_count = 2, .block = milliseconds{200},
             .visibility_timeout = milliseconds{std::stoll(argv[5])},
             .max_deliveries = static_cast<std::uint32_t>(std::stoul(argv[6])), .log = log});
  if (!consumer) {
    fmt::print(stderr, "worker: {}\n", consumer.error());
    return 1;
  }
  auto client = pipeline::redis::client::connect(conn);
  if (!client) {
    fmt::print(stderr, "worker: {}\n", client.error());
    return 1;
  }
  redis_test::hash_sink sink{*client, argv[3]};
  pipeline::redis::dead_letter_stream dlq{*client, {.stream = argv[4]}};
  const auto transform = [&](const pipeline::record& r) -> pipeline::record {
    if (r.find("id")->get<std::int64_t>() == poison) std::abort();
    return r;
  };
  pipeline::runner_options options{.name = "worker", .workers = 2, .queue_capacity = 2,
                                   .retry = {.initial = milliseconds{50}, .max_delay = milliseconds{500},
                                             .max_attempts = 0, .max_elapsed = milliseconds{30'000}},
                                   .log = log};
  struct slow_sink {
    using value_type = pipeline::record;
    redis_test::hash_sink& inner;
    milliseconds delay;
    auto write(std::span<const pipeline::record> rs, std::stop_token stop) -> pipeline::result<void> {
      std::this_thread::sleep_for(delay);
      return inner.write(rs, stop);
    }
  } slow{sink, work};
  auto report = pipeline::redis::run_worker<pipeline::record>(**consumer, transform, slow, dlq, options);
  fmt::print(stderr, "worker {}: {} written {} dead-lettered {}\n", ::getpid(), pipeline::to_string(report.status),
             report.written, report.dead_lettered);
  return report.status == pipeline::run_status::completed ? 0 : report.status == pipeline::run_status::failed ? 1 : 2;
}
