// End-to-end throughput of the PostgreSQL queue: one producer process and W worker processes
// on one database, first message queued -> last message processed (workers end when the
// producer has closed the queue and it is drained). The job is trivial (identity into a
// counting sink), so this measures the queue. bench/postgres/run.sh runs it beside the Redis
// queue and pg-boss.
//
//   bench_postgres_queue --postgres URI [--messages N] [--per-message K] [--workers W]
// Prints: postgres-queue messages=N per_message=K workers=W seconds=S messages_per_s=… records_per_s=…
#include <pipeline/pipeline.hpp>
#include <pipeline/postgres/postgres.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "queue_bench.hpp"

namespace {

using namespace std::chrono_literals;

struct settings {
  std::string postgres;
  std::string table;
  std::int64_t messages = 200'000;
  std::int64_t per_message = 1;
  int workers = 2;
};

auto options(const settings& s) -> pipeline::postgres::queue_options {
  pipeline::postgres::queue_options o;
  o.table = s.table;
  o.state_table = s.table + "_state";
  const bool single = s.per_message == 1;
  o.read_count = single ? 500 : 4;
  o.max_depth = single ? 200'000 : 200;
  o.records_per_entry = single ? 1 : 0;
  return o;
}

auto producer(const settings& s) -> int {
  auto db = pipeline::postgres::database::open(s.postgres).value();
  auto queue = pipeline::postgres::queue_producer::open(db, options(s)).value();
  queue_bench::counting_source source{s.messages * s.per_message, s.per_message == 1 ? 1000 : s.per_message};
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::runner_options o;
  o.name = "bench";
  o.workers = 2;
  o.queue_capacity = 8;
  return pipeline::postgres::run_producer(source, queue, dlq, checkpoints, o).status == pipeline::run_status::completed
             ? 0
             : 1;
}

auto worker(const settings& s) -> int {
  auto db = pipeline::postgres::database::open(s.postgres).value();
  auto consumer = pipeline::postgres::queue_consumer::open(db, options(s)).value();
  queue_bench::counting_sink sink;
  pipeline::memory_dlq dlq;
  pipeline::runner_options o;
  o.name = "bench";
  o.workers = 2;
  o.queue_capacity = 4;
  auto report = pipeline::postgres::run_worker<pipeline::record>(*consumer, pipeline::identity{}, sink, dlq, o);
  fmt::print(stderr, "worker: {} records\n", sink.n.load());
  return report.status == pipeline::run_status::completed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  s.table = fmt::format("bench_queue_{}", ::getpid());
  std::string role = "main";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    if (a == "--postgres") s.postgres = argv[i + 1];
    else if (a == "--messages") s.messages = std::stoll(argv[i + 1]);
    else if (a == "--per-message") s.per_message = std::stoll(argv[i + 1]);
    else if (a == "--workers") s.workers = std::stoi(argv[i + 1]);
    else if (a == "--role") role = argv[i + 1];
    else if (a == "--table") s.table = argv[i + 1];
  }
  if (s.postgres.empty() || s.messages <= 0 || s.per_message <= 0 || s.workers <= 0) {
    std::fputs("usage: bench_postgres_queue --postgres URI [--messages N] [--per-message K] [--workers W]\n", stderr);
    return 2;
  }
  if (role == "producer") return producer(s);
  if (role == "worker") return worker(s);

  // The tables first (the producer clears the closed flag), so that the workers wait on them.
  auto db = pipeline::postgres::database::open(s.postgres).value();
  (void)pipeline::postgres::queue_producer::open(db, options(s)).value();
  const auto timed = queue_bench::time_roles(
      argv[0],
      {"--postgres", s.postgres, "--table", s.table, "--messages", std::to_string(s.messages), "--per-message",
       std::to_string(s.per_message)},
      s.workers);
  (void)pipeline::postgres::execute(*db, fmt::format("DROP TABLE IF EXISTS \"{0}\", \"{0}_state\"", s.table));
  if (!timed) {
    fmt::print(stderr, "bench_postgres_queue: a process failed\n");
    return 1;
  }
  fmt::print("postgres-queue messages={} per_message={} workers={} seconds={:.2f} messages_per_s={:.0f} "
             "records_per_s={:.0f}\n",
             s.messages, s.per_message, s.workers, *timed, static_cast<double>(s.messages) / *timed,
             static_cast<double>(s.messages * s.per_message) / *timed);
  return 0;
}
