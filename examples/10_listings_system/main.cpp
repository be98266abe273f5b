// The real-estate ETL as its team ran it: messy listings in a MySQL table -> one producer
// streaming them (keyset pages) into a Redis stream, with a memory guard -> worker processes,
// as many as the stream's depth calls for, started and stopped by a pipeline::supervisor ->
// validate and normalise -> an upsert by listing id into MongoDB (or a MySQL or SQLite table),
// each bad row once in a dead-letter stream. One command runs the whole system:
//
//   listings_system --rows 1000000            (role "all": load, produce, supervise, check)
//
// and each part runs alone too (--role load|produce|work|supervise|check). README.md beside
// this file says what to expect and how the fault test drives it.
#include <pipeline/mongodb/mongodb.hpp>
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/pipeline.hpp>
#include <pipeline/redis/redis.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "command_line.hpp"
#include "listings.hpp"
#include "stop_signals.hpp"
#include "table_prefix.hpp"

namespace {

using namespace std::chrono_literals;

struct options {
  std::string role = "all";
  std::int64_t rows = 100'000;
  std::string name = "listings";  // tables <name>_feed, <name>_runs, <name>_listings; Redis {<name>}:...
  std::string sink = "mongodb";   // mongodb | mysql | sqlite
  std::string sqlite = "listings.db";
  std::string mysql, redis, mongodb;
  std::size_t batch = 100;  // listings per stream entry: the seed's "one job per batch of 100"
  std::size_t threads = 1;  // worker threads per worker process
  std::size_t min_workers = 1;
  std::size_t max_workers = 8;
  std::size_t per_worker = 100;  // pending entries per worker above which more are started
  std::chrono::milliseconds interval{5'000};
  std::chrono::milliseconds visibility{30'000};
  std::size_t max_depth = 2'000;  // the producer waits while the stream holds more entries
  bool fresh = false;
};

constexpr const char* usage = R"(usage: listings_system [options]
  --role R          all (default): load the feed when needed, run the producer and the
                    supervised workers until every listing is handled, then check;
                    load: fill the MySQL feed table with --rows messy listings (about 1% bad);
                    produce: stream the feed into the Redis stream (resumes after a crash);
                    work: one worker process (stream -> normalise -> sink, DLQ) until the
                    queue is closed and drained, or SIGTERM;
                    supervise: keep --min-workers..--max-workers worker processes running as the
                    stream's depth calls for, until the work is done or SIGINT/SIGTERM;
                    check: every good listing in the sink once, every bad one in the DLQ once
  --rows N          listings in the feed (100000)
  --name NAME       names everything: MySQL tables NAME_feed, NAME_runs, NAME_listings; Redis
                    keys {NAME}:...; MongoDB database NAME (listings)
  --sink S          mongodb (default), mysql (table NAME_listings) or sqlite (--sqlite PATH)
  --sqlite PATH     the SQLite sink's file (listings.db)
  --mysql URI       the feed and the job log ($PIPELINE_MYSQL_TEST_URI)
  --redis URI       the queue and the DLQ ($PIPELINE_REDIS_TEST_URI)
  --mongodb URI     the sink ($PIPELINE_MONGODB_TEST_URI)
  --batch N         listings per stream entry (100)
  --threads N       worker threads in each worker process (1)
  --min-workers N   (1)   --max-workers N (8)
  --per-worker N    pending entries per worker above which more workers start (100); below
                    one per worker, one is stopped per evaluation
  --interval-ms N   how often the supervisor reads the depth (5000; the seed used 30000)
  --visibility-ms N an entry a worker left pending this long is reclaimed (30000)
  --max-depth N     the producer waits while the stream holds more entries (2000)
  --fresh           drop the feed, the queue, the DLQ, the checkpoints and the sink first
  --help            this text
)";

auto env_or(const char* variable) -> std::string {
  const char* v = std::getenv(variable);
  return v != nullptr ? v : "";
}

auto parse_options(int argc, char** argv) -> std::optional<options> {
  options o;
  o.mysql = env_or("PIPELINE_MYSQL_TEST_URI");
  o.redis = env_or("PIPELINE_REDIS_TEST_URI");
  o.mongodb = env_or("PIPELINE_MONGODB_TEST_URI");
  examples::command_line args{argc, argv};
  std::int64_t ms = 0;
  while (const auto arg = args.next_option()) {
    if (arg == "--rows" && args.positive(o.rows)) continue;
    if (arg == "--batch" && args.positive(o.batch)) continue;
    if (arg == "--threads" && args.positive(o.threads)) continue;
    if (arg == "--min-workers" && args.positive(o.min_workers)) continue;
    if (arg == "--max-workers" && args.positive(o.max_workers)) continue;
    if (arg == "--per-worker" && args.positive(o.per_worker)) continue;
    if (arg == "--max-depth" && args.positive(o.max_depth)) continue;
    if (arg == "--interval-ms" && args.positive(ms)) {
      o.interval = std::chrono::milliseconds{ms};
      continue;
    }
    if (arg == "--visibility-ms" && args.positive(ms)) {
      o.visibility = std::chrono::milliseconds{ms};
      continue;
    }
    if (arg == "--role") o.role = args.value();
    else if (arg == "--name") o.name = args.value();
    else if (arg == "--sink") o.sink = args.value();
    else if (arg == "--sqlite") o.sqlite = args.value();
    else if (arg == "--mysql") o.mysql = args.value();
    else if (arg == "--redis") o.redis = args.value();
    else if (arg == "--mongodb") o.mongodb = args.value();
    else if (arg == "--fresh") o.fresh = true;
    else return std::nullopt;
  }
  const bool role_known = o.role == "all" || o.role == "load" || o.role == "produce" || o.role == "work" ||
                          o.role == "supervise" || o.role == "check";
  const bool sink_known = o.sink == "mongodb" || o.sink == "mysql" || o.sink == "sqlite";
  if (!role_known || !sink_known || o.min_workers > o.max_workers) return std::nullopt;
  if (o.mysql.empty() || o.redis.empty() || (o.sink == "mongodb" && o.mongodb.empty())) {
    std::fputs("listings_system: --mysql, --redis (and --mongodb for the MongoDB sink) are needed, or the "
               "PIPELINE_*_TEST_URI variables\n",
               stderr);
    return std::nullopt;
  }
  return o;
}

// --- names ---------------------------------------------------------------------------------

struct names {
  explicit names(const std::string& name)
      : feed(name + "_feed"), runs(name + "_runs"), listings(name + "_listings"), stream("{" + name + "}:queue"),
        dead("{" + name + "}:dead"), redis_prefix("{" + name + "}"), database(name) {}
  std::string feed, runs, listings, stream, dead, redis_prefix, database;
};

auto log_to_stderr() -> pipeline::logger { return pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn}; }

auto peak_rss_mb() -> double {
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  return static_cast<double>(self.ru_maxrss) / 1024.0;
}

auto open_mysql(const options& o) -> std::shared_ptr<pipeline::mysql::database> {
  // An outage (a restart) is waited out for 5 minutes by default, logged when it starts and ends.
  // Options set field by field: g++ 12 -O3 warns (maybe-uninitialized) on a temporary here.
  pipeline::mysql::database_options options;
  options.log = log_to_stderr();
  return pipeline::mysql::database::open(o.mysql, options).value();
}

auto redis_connection(const options& o) -> pipeline::redis::connection_options {
  return {.uri = o.redis, .log = log_to_stderr()};
}

// --- load: the feed as the listings site sent it, about 1% bad --------------------------------

// The feed keeps what was sent, as text (NULL where a row lacked the field); MariaDB's sequence
// engine fills it without a round trip per row. The defects follow listings::defect_of, so
// `check` knows which rows are bad: the same table as 03's CSV.
void load(const options& o) {
  const names n{o.name};
  auto db = open_mysql(o);
  namespace my = pipeline::mysql;
  my::execute(*db, fmt::format("CREATE TABLE IF NOT EXISTS `{}` (id BIGINT PRIMARY KEY, city MEDIUMBLOB NULL, "
                               "price VARCHAR(32) NULL, listed_on VARCHAR(32) NULL, bedrooms VARCHAR(16) NULL)",
                               n.feed))
      .value();
  const auto have = my::query_int64(*db, fmt::format("SELECT COUNT(*) FROM `{}`", n.feed)).value().at(0).value_or(0);
  if (have >= o.rows) return;
  fmt::print("load: filling {} with {} listings\n", n.feed, o.rows);
  const auto huge = o.rows / 2;  // one 10 MB city, as the CSV's one 10 MB line
  const auto defect = [&](int which) {
    // The defect of row `seq` by listings::defect_of's order: 1 huge, 2 missing fields, 3 bad
    // price, 4 impossible date, 5 invalid UTF-8, 0 none.
    return fmt::format("(CASE WHEN seq = {} THEN 1 WHEN seq % 331 = 0 THEN 2 WHEN seq % 257 = 0 THEN 3 "
                       "WHEN seq % 199 = 0 THEN 4 WHEN seq % 503 = 0 THEN 5 ELSE 0 END) = {}",
                       huge, which);
  };
  const auto city = "ELT(seq % 6 + 1, 'Lisboa', 'Porto', 'Faro', 'Braga', 'Coimbra', '\"Vila Nova\", Gaia')";
  const auto sql_of = [&](std::int64_t first, std::int64_t last) {
    return fmt::format(
        "INSERT IGNORE INTO `{}` SELECT seq, "
        "CASE WHEN {} THEN REPEAT('x', 10485760) WHEN {} THEN NULL WHEN {} THEN X'4C697362FFFE61' ELSE {} END, "
        "CASE WHEN {} THEN '1.00' WHEN {} THEN NULL WHEN {} THEN '12O 000.00' WHEN {} THEN '99000.00' "
        "WHEN {} THEN '150000.00' ELSE CONCAT(50000 + seq % 900000, '.', LPAD(seq % 100, 2, '0')) END, "
        "CASE WHEN {} THEN '2024-01-01' WHEN {} THEN NULL WHEN {} THEN '2024-05-01' WHEN {} THEN '2024-02-30' "
        "WHEN {} THEN '2024-03-03' ELSE CONCAT('2024-', LPAD(1 + seq % 12, 2, '0'), '-', LPAD(1 + seq % 28, 2, '0')) END, "
        "CASE WHEN {} THEN '1' WHEN {} THEN NULL WHEN {} THEN '2' WHEN {} THEN '2' WHEN {} THEN '1' "
        "ELSE CAST(seq % 6 AS CHAR) END "
        "FROM seq_{}_to_{}",
        n.feed, defect(1), defect(2), defect(5), city,                                   //
        defect(1), defect(2), defect(3), defect(4), defect(5),                           //
        defect(1), defect(2), defect(3), defect(4), defect(5),                           //
        defect(1), defect(2), defect(3), defect(4), defect(5), first, last);
  };
  // In steps of 500k rows: one statement each, none holding the server for long.
  for (std::int64_t first = 1; first <= o.rows; first += 500'000) {
    my::execute(*db, sql_of(first, std::min(o.rows, first + 499'999))).value();
  }
}

// --- produce ----------------------------------------------------------------------------------

auto produce(const options& o, std::stop_token stop) -> int {
  const names n{o.name};
  auto db = open_mysql(o);
  namespace my = pipeline::mysql;
  // Pages of 10 entries' worth, split into entries of --batch listings in one round trip each.
  auto feed = my::keyset_source::open(db, {.table = n.feed, .key_columns = {"id"}, .batch_size = 10 * o.batch}).value();
  auto job_log = my::job_log::open(db, {.table = n.runs}).value();
  pipeline::any_job_log_store runs{std::ref(job_log)};
  const auto conn = redis_connection(o);
  auto c = pipeline::redis::client::connect(conn).value();
  auto queue =
      pipeline::redis::stream_producer::open(
          c, {.stream = n.stream, .max_depth = o.max_depth, .records_per_entry = o.batch, .log = conn.log})
          .value();
  pipeline::redis::dead_letter_stream dlq{c, {.stream = n.dead}};
  pipeline::redis::checkpoint_store checkpoints{c, {.prefix = n.redis_prefix}};
  pipeline::runner_options run_options;
  run_options.name = o.name + "/producer";
  run_options.job_log = &runs;
  // Each batch goes on the stream with a ledger entry, in one script: a producer restarted
  // after a crash skips what its predecessor added after the last checkpoint, so every
  // listing is on the stream once and its dead letter keeps one identity.
  run_options.exactly_once = true;
  run_options.log = conn.log;
  const auto report = pipeline::redis::run_producer(feed, queue, dlq, checkpoints, run_options, std::move(stop));
  fmt::print("producer: {}, {} listings queued in {:.1f} s; peak RSS {:.0f} MB\n", pipeline::to_string(report.status),
             report.written, std::chrono::duration<double>(report.duration).count(), peak_rss_mb());
  if (report.failure) fmt::print(stderr, "producer: {}\n", *report.failure);
  return report.status == pipeline::run_status::completed ? 0 : report.status == pipeline::run_status::stopped ? 3 : 1;
}

// --- work -------------------------------------------------------------------------------------

// A feed row (id a number, the city bytes as sent, the rest text) becomes a listing, or an
// invalid_input error that the worker dead-letters with its message.
auto normalise_feed_row(const pipeline::record& row) -> pipeline::result<pipeline::record> {
  const auto* id = row.find("id");
  if (id == nullptr || id->get_if<std::int64_t>() == nullptr) return pipeline::invalid_input_error("id is missing");
  pipeline::record as_sent = row;
  as_sent.set("id", std::to_string(id->get<std::int64_t>()));
  if (const auto* city = row.find("city"); city != nullptr && city->get_if<pipeline::bytes>() != nullptr) {
    const auto& raw = city->get<pipeline::bytes>();
    if (raw.size() > 1024) return pipeline::invalid_input_error(fmt::format("city is {} bytes long (at most 1024)", raw.size()));
    as_sent.set("city", std::string(reinterpret_cast<const char*>(raw.data()), raw.size()));  // normalise checks UTF-8
  }
  return listings::normalise(as_sent);
}

const std::vector<std::string> listing_columns{"id", "city", "price_cents", "listed_on", "bedrooms"};

auto open_sink(const options& o) -> pipeline::any_sink<pipeline::record> {
  const names n{o.name};
  if (o.sink == "mongodb") {
    namespace mdb = pipeline::mongodb;
    // Upsert by the listing id: an entry redelivered after a crash changes nothing. Each
    // document's _id is an ObjectId made of the listing id, so that two workers inserting one
    // new listing at once (a worker paused past the visibility timeout, and the one that
    // reclaimed its entry) meet the _id's unique index, and the second insert is sent again
    // as an upsert, instead of storing the listing twice. An ObjectId, not the number: the
    // test server (CongoDB) keeps only ObjectId _ids unique; real MongoDB takes either.
    return mdb::collection_sink(mdb::client::open(o.mongodb), {.database = n.database,
                                                                .collection = "listings",
                                                                .mode = mdb::write_mode::upsert,
                                                                .key_fields = {"id"}});
  }
  const std::map<std::string, std::string, std::less<>> types{{"id", "BIGINT"},
                                                              {"city", "VARCHAR(255)"},
                                                              {"price_cents", "BIGINT"},
                                                              {"listed_on", "DATE"},
                                                              {"bedrooms", "INT"}};
  const std::vector<std::string> updated{"city", "price_cents", "listed_on", "bedrooms"};
  if (o.sink == "mysql") {
    namespace my = pipeline::mysql;
    return my::table_sink::open(open_mysql(o), {.table = n.listings,
                                                .columns = listing_columns,
                                                .mode = my::write_mode::upsert,
                                                .key_columns = {"id"},
                                                .update_columns = updated,
                                                .create_table = true,
                                                .column_types = types})
        .value();
  }
  namespace lite = pipeline::sqlite;
  return lite::table_sink::open(lite::database::open(o.sqlite).value(), {.table = "listings",
                                                                           .columns = listing_columns,
                                                                           .mode = lite::write_mode::upsert,
                                                                           .key_columns = {"id"},
                                                                           .update_columns = updated,
                                                                           .create_table = true,
                                                                           .column_types = types})
      .value();
}

auto work(const options& o, std::stop_token stop) -> int {
  const names n{o.name};
  const auto conn = redis_connection(o);
  auto consumer =
      pipeline::redis::stream_consumer::open(conn, {.stream = n.stream, .visibility_timeout = o.visibility, .log = conn.log})
          .value();
  auto c = pipeline::redis::client::connect(conn).value();
  pipeline::redis::dead_letter_stream dlq{c, {.stream = n.dead}};
  auto sink = open_sink(o);
  const auto transform = [with_id = o.sink == "mongodb"](const pipeline::record& row) {
    auto listing = normalise_feed_row(row);
    if (listing && with_id) listing->set("_id", fmt::format("{:024x}", listing->find("id")->get<std::int64_t>()));
    return listing;
  };
  pipeline::runner_options run_options;
  run_options.name = o.name + "/worker";
  run_options.workers = o.threads;
  run_options.queue_capacity = o.threads;
  run_options.log = conn.log;
  const auto report =
      pipeline::redis::run_worker<pipeline::record>(*consumer, transform, sink, dlq, run_options, std::move(stop));
  fmt::print("worker {}: {}, {} written, {} dead-lettered, {} retried; peak RSS {:.0f} MB\n", env_or("PIPELINE_WORKER_SLOT"),
             pipeline::to_string(report.status), report.written, report.dead_lettered, report.retried, peak_rss_mb());
  if (report.failure) fmt::print(stderr, "worker: {}\n", *report.failure);
  // 0 only when the queue is closed and drained: the supervisor reads it as "the work is done".
  return report.status == pipeline::run_status::completed ? 0 : report.status == pipeline::run_status::stopped ? 3 : 1;
}

// --- supervise --------------------------------------------------------------------------------

// This program with another role, for a supervisor to start.
auto command_for(const std::string& role, int argc, char** argv) -> std::vector<std::string> {
  std::vector<std::string> command{std::filesystem::read_symlink("/proc/self/exe").string()};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--role") {
      ++i;
      continue;
    }
    if (arg == "--fresh") continue;
    command.emplace_back(arg);
  }
  command.push_back("--role");
  command.push_back(role);
  return command;
}

auto supervise(const options& o, const std::vector<std::string>& worker_command, std::stop_token stop)
    -> pipeline::supervisor_report {
  const names n{o.name};
  const auto conn = redis_connection(o);
  auto c = pipeline::redis::client::connect(conn).value();
  auto view = pipeline::redis::stream_producer::open(c, {.stream = n.stream, .log = conn.log}).value();
  const auto started = std::chrono::steady_clock::now();
  pipeline::supervisor_options options;
  options.command = worker_command;
  options.depth = pipeline::redis::stream_depth_function(view);
  // The seed's rule, scaled: one worker per `per_worker` pending entries, between the bounds.
  options.scale.min_workers = o.min_workers;
  options.scale.max_workers = o.max_workers;
  options.scale.scale_up_above = static_cast<double>(o.per_worker);
  options.scale.scale_down_below = 1.0;
  options.scale.up_after = 1;
  options.scale.down_after = 2;
  options.scale.interval = o.interval;
  options.stable_after = 5s;
  options.on_exit_zero = pipeline::worker_exit_zero::finished;
  options.on_evaluation = [started](const pipeline::supervisor_evaluation& e) {
    fmt::print("supervisor: t={:.0f}s depth={} running={} desired={}{}\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), e.depth, e.running,
               e.desired, e.depth_failed ? " (depth read failed)" : "");
    std::fflush(stdout);
  };
  options.name = o.name + "/workers";
  options.log = log_to_stderr();
  pipeline::supervisor workers{std::move(options)};
  return workers.run(std::move(stop));
}

// --- check ------------------------------------------------------------------------------------

// Set equality, not counts: a listing stored twice and another lost would leave counts right.
auto check(const options& o) -> bool {
  const names n{o.name};
  const auto rows = static_cast<std::size_t>(o.rows);
  std::vector<bool> bad(rows + 1, false);
  std::size_t bad_count = 0;
  for (std::int64_t id = 1; id <= o.rows; ++id) {
    if (listings::defect_of(id, o.rows) != listings::defect::none) {
      bad[static_cast<std::size_t>(id)] = true;
      ++bad_count;
    }
  }
  const auto good_count = rows - bad_count;
  std::vector<std::uint8_t> in_sink(rows + 1, 0);
  bool sink_ok = true;
  std::size_t sink_rows = 0, sink_unexpected = 0, sink_twice = 0;

  // The sink: MongoDB is read id by id; the tables are checked by SQL over the same rule.
  const auto bad_sql = fmt::format("id < 1 OR id > {0} OR id = {1} OR id % 331 = 0 OR id % 257 = 0 OR id % 199 = 0 "
                                   "OR id % 503 = 0",
                                   o.rows, o.rows / 2);
  const auto count_sql = fmt::format("SELECT COUNT(*), COUNT(DISTINCT id), SUM(CASE WHEN {} THEN 1 ELSE 0 END) FROM {{}}",
                                     bad_sql);
  if (o.sink == "mongodb") {
    auto source = pipeline::mongodb::collection_source(
        pipeline::mongodb::client::open(o.mongodb),
        {.database = n.database, .collection = "listings", .projection_json = R"({"id": 1})", .batch_size = 5000});
    while (auto page = source.next_batch({}).value()) {
      for (const auto& doc : page->records) {
        ++sink_rows;
        const auto* id = doc.find("id");
        const auto* v = id != nullptr ? id->get_if<std::int64_t>() : nullptr;
        if (v == nullptr || *v < 1 || *v > o.rows || bad[static_cast<std::size_t>(*v)]) {
          ++sink_unexpected;
          continue;
        }
        if (in_sink[static_cast<std::size_t>(*v)]++ > 0) ++sink_twice;
      }
    }
    sink_ok = sink_rows == good_count && sink_unexpected == 0 && sink_twice == 0;
  } else {
    std::int64_t total = 0, distinct = 0, unexpected = 0;
    if (o.sink == "mysql") {
      auto r = pipeline::mysql::query_int64(*open_mysql(o), fmt::format(fmt::runtime(count_sql), "`" + n.listings + "`"))
                   .value();
      total = r.at(0).value_or(-1), distinct = r.at(1).value_or(-1), unexpected = r.at(2).value_or(0);
    } else {
      auto r = pipeline::sqlite::query_int64(*pipeline::sqlite::database::open(o.sqlite).value(),
                                             fmt::format(fmt::runtime(count_sql), "listings"))
                   .value();
      total = r.at(0), distinct = r.at(1), unexpected = r.at(2);
    }
    sink_rows = static_cast<std::size_t>(total);
    sink_unexpected = static_cast<std::size_t>(unexpected);
    sink_twice = static_cast<std::size_t>(total - distinct);
    // Distinct ids, none bad or out of range, as many as the good ids: exactly the good ids.
    sink_ok = total == distinct && unexpected == 0 && static_cast<std::size_t>(distinct) == good_count;
  }

  // The DLQ: one entry per bad listing, none for a good one. Nothing can be in both without
  // failing one side: a good listing in the DLQ counts as "good or unknown" there, a bad one in
  // the sink as "bad or unknown".
  auto c = pipeline::redis::client::connect(redis_connection(o)).value();
  pipeline::redis::dead_letter_stream dlq{c, {.stream = n.dead}};
  std::vector<std::uint8_t> in_dlq(rows + 1, 0);
  std::size_t entries = 0, dlq_unexpected = 0, dlq_twice = 0;
  for (std::string after = "0-0";;) {
    const auto page = dlq.read(after, 1000).value();
    if (page.empty()) break;
    after = page.back().first;
    for (const auto& [id, letter] : page) {
      ++entries;
      const auto listing = listings::id_in(letter.payload);
      if (!listing || *listing < 1 || *listing > o.rows || !bad[static_cast<std::size_t>(*listing)]) {
        ++dlq_unexpected;
        continue;
      }
      if (in_dlq[static_cast<std::size_t>(*listing)]++ > 0) ++dlq_twice;
    }
  }
  const bool dlq_ok = entries == bad_count && dlq_unexpected == 0 && dlq_twice == 0;
  fmt::print("check: sink ({}) {} listings, expected {} good, {} bad or unknown, {} twice -> {}; DLQ {} entries, "
             "expected {} bad, {} good or unknown, {} twice -> {}\n",
             o.sink, sink_rows, good_count, sink_unexpected, sink_twice, sink_ok ? "ok" : "WRONG", entries, bad_count,
             dlq_unexpected, dlq_twice, dlq_ok ? "ok" : "WRONG");
  return sink_ok && dlq_ok;
}

// --- fresh ------------------------------------------------------------------------------------

void drop_everything(const options& o) {
  const names n{o.name};
  auto db = open_mysql(o);
  for (const auto& table : {n.feed, n.runs, n.listings}) {
    pipeline::mysql::execute(*db, fmt::format("DROP TABLE IF EXISTS `{}`", table)).value();
  }
  auto c = pipeline::redis::client::connect(redis_connection(o)).value();
  for (std::string cursor = "0";;) {  // every key of the system shares the {name} hash tag
    const auto reply = c->command({"SCAN", cursor, "MATCH", n.redis_prefix + "*", "COUNT", "1000"}).value();
    cursor = reply.elements.at(0).str;
    for (const auto& key : reply.elements.at(1).elements) (void)c->command({"DEL", key.str}).value();
    if (cursor == "0") break;
  }
  if (o.sink == "mongodb") pipeline::mongodb::client::open(o.mongodb)->drop_database(n.database).value();
  if (o.sink == "sqlite") {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((o.sqlite + suffix).c_str());
  }
}

// --- all --------------------------------------------------------------------------------------

auto run_all(const options& o, int argc, char** argv) -> int {
  if (o.fresh) drop_everything(o);
  load(o);
  examples::stop_on_signals stop;  // before any thread: SIGINT/SIGTERM end both supervisors cleanly
  const auto started = std::chrono::steady_clock::now();
  // The producer is one process kept alive by a supervisor of its own: restarted after a crash
  // (it resumes from its checkpoint), finished once it exits 0 (the feed is on the stream).
  pipeline::supervisor_report producer_report;
  std::jthread producer{[&] {
    pipeline::supervisor_options options;
    options.command = command_for("produce", argc, argv);
    options.depth = []() -> pipeline::result<std::uint64_t> { return std::uint64_t{0}; };
    options.scale.min_workers = 1;
    options.scale.max_workers = 1;
    options.restart_backoff.initial = 1s;
    options.restart_backoff.max_delay = 10s;
    options.on_exit_zero = pipeline::worker_exit_zero::finished;
    options.name = o.name + "/producer";
    options.log = log_to_stderr();
    pipeline::supervisor one{std::move(options)};
    producer_report = one.run(stop.token());
  }};
  const auto workers = supervise(o, command_for("work", argc, argv), stop.token());
  producer.join();
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("system: {} listings in {:.1f} s ({:.0f} listings/s); producer started {} times ({} crashed); workers "
             "started {}, peak {}, crashed {}, stopped {}, killed {}; supervisors' process peak RSS {:.0f} MB\n",
             o.rows, seconds, static_cast<double>(o.rows) / seconds, producer_report.started, producer_report.crashed,
             workers.started, workers.peak_workers, workers.crashed, workers.stopped, workers.killed, peak_rss_mb());
  if (stop.stop_requested()) {
    fmt::print("stopped by a signal: run it again to resume\n");
    return 3;
  }
  return workers.finished && producer_report.finished && check(o) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--help") {
    std::fputs(usage, stdout);
    return 0;
  }
  const auto o = parse_options(argc, argv);
  if (!o) {
    std::fputs(usage, stderr);
    return 2;
  }
  if (!examples::valid_table_prefix(o->name)) {  // the name goes into SQL this program writes
    std::fputs("--name: letters, digits and _ only, at most 40, not starting with a digit\n", stderr);
    return 2;
  }
  try {
    if (o->role == "all") return run_all(*o, argc, argv);
    if (o->role == "load") {
      if (o->fresh) drop_everything(*o);
      load(*o);
      return 0;
    }
    if (o->role == "check") return check(*o) ? 0 : 1;
    examples::stop_on_signals stop;
    if (o->role == "produce") return produce(*o, stop.token());
    if (o->role == "work") return work(*o, stop.token());
    const auto report = supervise(*o, command_for("work", argc, argv), stop.token());
    fmt::print("supervisor: workers started {}, peak {}, crashed {}, stopped {}, killed {}\n", report.started,
               report.peak_workers, report.crashed, report.stopped, report.killed);
    return report.finished ? 0 : 3;
  } catch (const std::exception& e) {  // .value() on a failed open: say why and fail
    fmt::print(stderr, "listings_system: {}\n", e.what());
    return 1;
  }
}
