// The process that tests/fault/postgres_queue_chaos.sh starts, kills and cuts off: one role of
// a PostgreSQL queue (pipeline::postgres::run_producer / run_worker) on the database of
// PIPELINE_POSTGRES_TEST_URI, with tables <name>_q (the queue), _rows (the sink: a plain
// INSERT into a table with NO unique key, so a record written twice would show), _dlq and
// _state beside it. Every 97th record (id % 97 == 13) is refused by the workers' transform
// with "bad id <id>".
//   --role setup      makes the queue's tables and the sink table
//   --role producer   adds records 0..rows-1 in batches of --batch, then closes the queue
//   --role worker     runs a worker (2 threads) in exactly-once mode with the rows, their ledger
//                     row and the queue entries' deletion in one transaction
//                     (acknowledging_table_sink); its connections carry application_name
//                     pgq_chaos_worker, so that `--role cut` can find them
//   --role cut        pg_terminate_backend of every worker connection; prints how many
//   --role check      set equality: each good record once in _rows, each bad one once in _dlq,
//                     the queue empty; exits 1 otherwise
//   --role drop       removes the tables
//   postgres_queue_process --role R --name N [--rows N] [--batch N]
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/postgres/postgres.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace {

using namespace std::chrono_literals;
namespace pg = pipeline::postgres;

constexpr std::string_view worker_application = "pgq_chaos_worker";

struct settings {
  std::string role;
  std::string name;
  std::int64_t rows = 100'000;
  std::size_t batch = 100;
};

auto bad(std::int64_t id) -> bool { return id % 97 == 13; }

auto uri(std::string_view application = {}) -> std::string {
  const char* base = std::getenv("PIPELINE_POSTGRES_TEST_URI");
  if (base == nullptr) throw std::runtime_error("PIPELINE_POSTGRES_TEST_URI is not set");
  std::string out = base;
  if (!application.empty()) out += fmt::format("{}application_name={}", out.find('?') == std::string::npos ? '?' : '&', application);
  return out;
}

auto queue_options(const settings& s) -> pg::queue_options {
  pg::queue_options o;
  o.table = s.name + "_q";
  o.state_table = s.name + "_state";
  o.batch_table = s.name + "_q_ledger";
  // Long enough that a live worker never loses a claim; short enough that a killed worker's
  // entries come back within the test. Only the bad records go to the DLQ: a record is not
  // dead-lettered for the kills (a worker killed with it in hand) however often it was hit.
  o.visibility_timeout = 2000ms;
  o.recheck_interval = 250ms;
  o.max_deliveries = 1000;
  return o;
}

// Retries long enough to ride out the terminated connections.
auto patient() -> pipeline::backoff_options {
  pipeline::backoff_options b;
  b.initial = 20ms;
  b.max_delay = 500ms;
  b.max_attempts = 0;
  b.max_elapsed = 60'000ms;
  return b;
}

// `open()` (a result) tried again while it fails `transient`: a worker may start while its
// connections are being cut.
template <class Open>
auto opened(Open&& open) {
  for (int attempt = 1;; ++attempt) {
    auto r = open();
    if (r || r.error().kind != pipeline::error_kind::transient || attempt == 100) return std::move(r).value();
    std::this_thread::sleep_for(100ms);
  }
}

auto setup(const settings& s) -> int {
  auto db = pg::database::open(uri()).value();
  if (!pg::queue_producer::open(db, queue_options(s))) return 1;
  return pg::execute(*db, fmt::format("CREATE TABLE \"{}_rows\" (id BIGINT, name TEXT)", s.name)) ? 0 : 1;
}

auto produce(const settings& s) -> int {
  auto db = pg::database::open(uri()).value();
  auto producer = pg::queue_producer::open(db, queue_options(s)).value();
  std::vector<pipeline::record> records;
  for (std::int64_t i = 0; i < s.rows; ++i) records.push_back({{"id", i}, {"name", fmt::format("row-{}", i)}});
  pipeline::vector_source<pipeline::record> source{std::move(records), s.batch};
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::memory_dlq dlq;
  pipeline::runner_options o;
  o.name = s.name + "_producer";
  o.retry = patient();
  const auto report = pg::run_producer(source, producer, dlq, checkpoints, o);
  fmt::print("producer: {} written\n", report.written);
  return report.status == pipeline::run_status::completed ? 0 : 1;
}

auto work(const settings& s) -> int {
  auto db = pg::database::open(uri(worker_application)).value();
  auto consumer = opened([&] { return pg::queue_consumer::open(db, queue_options(s)); });
  pg::table_sink_options so;
  so.table = s.name + "_rows";
  so.columns = {"id", "name"};
  so.batch_table = s.name + "_rows_ledger";
  auto rows = opened([&] { return pg::table_sink::open(db, so); });
  auto dlq = opened([&] { return pg::dead_letter_table::open(db, {.table = s.name + "_dlq"}); });
  pg::acknowledging_table_sink sink{rows, *consumer};
  const auto refuse_bad = [](const pipeline::record& r) -> pipeline::result<pipeline::record> {
    const auto id = *r.find("id")->get_if<std::int64_t>();
    if (bad(id)) return pipeline::invalid_input_error(fmt::format("bad id {}", id));
    return r;
  };
  pipeline::runner_options o;
  o.name = s.name + "_worker";
  o.workers = 2;
  o.exactly_once = true;
  o.retry = patient();
  const auto report = pg::run_worker<pipeline::record>(*consumer, refuse_bad, sink, dlq, o);
  fmt::print("worker: {} written, {} dead-lettered, {}\n", report.written, report.dead_lettered,
             report.failure ? report.failure->message : "ok");
  return report.status == pipeline::run_status::completed ? 0 : 1;
}

auto cut() -> int {
  auto db = pg::database::open(uri()).value();
  auto n = pg::query_int64(*db, fmt::format("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                                            "application_name = '{}'",
                                            worker_application));
  if (!n) return 1;
  fmt::print("cut {} worker connections\n", n->at(0).value_or(0));
  return 0;
}

auto check(const settings& s) -> int {
  auto db = pg::database::open(uri()).value();
  int status = 0;
  const auto expect = [&](std::string_view what, const std::string& sql, bool want_bad) {
    // Count, distinct count and set equality in SQL: the ids expected are generate_series.
    const auto q = fmt::format(
        "SELECT (SELECT count(*) FROM ({0}) AS t(v)), (SELECT count(DISTINCT v) FROM ({0}) AS t(v)), "
        "(SELECT count(*) FROM generate_series(0, {1} - 1) AS g(v) WHERE (g.v % 97 = 13) = {2} AND NOT EXISTS "
        "(SELECT 1 FROM ({0}) AS t(v) WHERE t.v = g.v)), "
        "(SELECT count(*) FROM ({0}) AS t(v) WHERE (v % 97 = 13) <> {2} OR v < 0 OR v >= {1})",
        sql, s.rows, want_bad ? "true" : "false");
    const auto r = pg::query_int64(*db, q).value();
    std::int64_t expected = 0;
    for (std::int64_t i = 0; i < s.rows; ++i) expected += bad(i) == want_bad ? 1 : 0;
    const auto total = r.at(0).value_or(-1);
    const auto distinct = r.at(1).value_or(-1);
    const auto missing = r.at(2).value_or(-1);
    const auto foreign = r.at(3).value_or(-1);
    fmt::print("{}: {} held, {} distinct, {} expected, {} missing, {} that do not belong\n", what, total, distinct,
               expected, missing, foreign);
    if (total != expected || distinct != expected || missing != 0 || foreign != 0) status = 1;
  };
  expect("sink", fmt::format("SELECT id FROM \"{}_rows\"", s.name), false);
  expect("dlq",
         fmt::format("SELECT substring(convert_from(message, 'UTF8') FROM 'bad id ([0-9]+)')::bigint FROM \"{}_dlq\"",
                     s.name),
         true);
  const auto left = pg::query_int64(*db, fmt::format("SELECT count(*) FROM \"{}_q\"", s.name)).value().at(0).value_or(-1);
  fmt::print("queue: {} entries left\n", left);
  if (left != 0) status = 1;
  return status;
}

auto drop(const settings& s) -> int {
  auto db = pg::database::open(uri()).value();
  for (const auto* suffix : {"_q", "_state", "_q_ledger", "_rows", "_rows_ledger", "_dlq"}) {
    (void)pg::execute(*db, fmt::format("DROP TABLE IF EXISTS \"{}{}\"", s.name, suffix));
  }
  return 0;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--role") s.role = value;
    else if (flag == "--name") s.name = value;
    else if (flag == "--rows") s.rows = std::stoll(value);
    else if (flag == "--batch") s.batch = std::stoul(value);
  }
  if (s.name.empty() && s.role != "cut") {
    std::fputs("usage: postgres_queue_process --role setup|producer|worker|cut|check|drop --name N [--rows N] [--batch N]\n",
               stderr);
    return 2;
  }
  try {
    if (s.role == "setup") return setup(s);
    if (s.role == "producer") return produce(s);
    if (s.role == "worker") return work(s);
    if (s.role == "cut") return cut();
    if (s.role == "check") return check(s);
    if (s.role == "drop") return drop(s);
  } catch (const std::exception& e) {
    fmt::print(stderr, "postgres_queue_process: {}\n", e.what());
    return 1;
  }
  return 2;
}
