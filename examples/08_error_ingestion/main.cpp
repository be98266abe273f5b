// Error ingestion: an HTTP service that takes error events (POST /errors/log, a JSON body),
// fingerprints them and counts them in Redis, and keeps one row per distinct error in MySQL.
//
// The hot path never touches MySQL: it normalises the event (numbers and hex ids masked), takes
// the SHA-256 of service, type and normalised message as its fingerprint, adds 1 to the
// fingerprint's counter (pipeline::redis::counter_store, HINCRBY), and, when the counter says
// this is the first sighting since the last flush, puts the event on a Redis stream.
//
// Two background roles, in this process or in others (--roles):
// - worker: pipeline::redis::run_worker reads the stream and inserts each event into the
//   `errors` table with INSERT IGNORE on its unique fingerprint: one row per distinct error,
//   however often it is enqueued;
// - flusher: every --flush-seconds (30), at most one across replicas (pipeline::scheduler,
//   its lease kept beside the flush's checkpoint in MySQL), takes every count out of Redis (begin_flush: an
//   atomic RENAME, so an increment lands in this flush or the next) and adds it in MySQL,
//   `count = count + delta, last_seen_at = now`, in the same transaction as the flush's id
//   (table_sink::write_with_checkpoint), then confirms the flush in Redis. A flusher that dies
//   anywhere in between finds the same flush again at its next start, and the checkpoint tells
//   whether it was applied: nothing is lost, nothing counted twice.
//
// GET /health (Redis and MySQL answer), GET /metrics (Prometheus text). A body that is not a
// JSON object with a string "message" is answered 400 with the reason; one over --max-body
// bytes 413. With --console HOST:PORT, the operator's console (pipeline::console) serves the DLQ
// table, the flush checkpoints, the events stream's depth and these metrics on a port of its
// own, behind the bearer token of --console-token-file. SIGINT/SIGTERM: stop taking requests,
// let the worker drain the stream, flush once more, exit.
//
//     error_ingestion --redis redis://127.0.0.1:6379/0 --mysql mysql://etl:secret@127.0.0.1/ops --listen 0.0.0.0:8080

#include <pipeline/console/console.hpp>
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/pipeline.hpp>
#include <pipeline/redis/redis.hpp>

#include "../common/command_line.hpp"
#include "../common/stop_signals.hpp"
#include "../common/table_prefix.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace my = pipeline::mysql;
namespace rd = pipeline::redis;
using namespace std::chrono_literals;

struct options {
  std::string redis_uri;
  std::string mysql_uri;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string prefix = "errors";
  std::string roles = "http,worker,flusher";
  std::size_t max_body = 64 * 1024;
  std::size_t http_threads = 600;
  std::size_t redis_connections = 4;
  std::int64_t flush_seconds = 30;
  std::optional<std::int64_t> check_total;  // --check-total N: verify MySQL and exit
  std::string console_host;  // --console HOST:PORT: the operator's console there (empty: none)
  int console_port = 0;
  std::string console_token_file;

  [[nodiscard]] auto has(std::string_view role) const -> bool {
    return ("," + roles + ",").find("," + std::string(role) + ",") != std::string::npos;
  }
};

constexpr const char* usage = R"(usage: error_ingestion [options]
  --redis URI            redis://[user:password@]host:port/db (default: $PIPELINE_REDIS_TEST_URI)
  --mysql URI            mysql://user:password@host:port/db (default: $PIPELINE_MYSQL_TEST_URI)
  --listen HOST:PORT     where the HTTP service listens (127.0.0.1:8080; port 0: any free port)
  --prefix NAME          MySQL tables NAME_errors, NAME_counts, NAME_checkpoints, NAME_dlq; Redis keys {NAME}:* (errors)
  --roles LIST           http,worker,flusher (all three)
  --flush-seconds N      how often counts go from Redis to MySQL (30)
  --max-body N           largest request body in bytes; larger is 413 (65536)
  --http-threads N       requests served at once; a keep-alive connection holds one (600)
  --redis-connections N  Redis connections of the hot path (4)
  --check-total N        only check that MySQL counts N events, all fingerprints known, and exit
  --console HOST:PORT    the operator's web console (pipeline::console) there: the DLQ table, the
                         flush checkpoints, the events stream and these metrics (port 0: any free one)
  --console-token-file F the bearer token (first line) the console's reads and changes need
)";

// HOST:PORT into `host` and `port`; false when it is not that.
auto parse_host_port(std::string_view text, std::string& host, int& port) -> bool {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos ||
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), port).ec != std::errc{} || port < 0 ||
      port > 65535) {
    return false;
  }
  host = std::string(text.substr(0, colon));
  return true;
}

auto parse_options(int argc, char** argv) -> std::optional<options> {
  options o;
  if (const char* env = std::getenv("PIPELINE_REDIS_TEST_URI")) o.redis_uri = env;
  if (const char* env = std::getenv("PIPELINE_MYSQL_TEST_URI")) o.mysql_uri = env;
  examples::command_line args{argc, argv};
  while (const auto arg = args.next_option()) {
    if (arg == "--flush-seconds" && args.positive(o.flush_seconds)) continue;
    if (arg == "--max-body" && args.positive(o.max_body)) continue;
    if (arg == "--http-threads" && args.positive(o.http_threads)) continue;
    if (arg == "--redis-connections" && args.positive(o.redis_connections)) continue;
    if (arg == "--check-total") {
      std::int64_t n = 0;
      const auto text = args.value();
      if (std::from_chars(text.data(), text.data() + text.size(), n).ec != std::errc{} || n < 0) return std::nullopt;
      o.check_total = n;
    } else if (arg == "--listen") {
      if (!parse_host_port(args.value(), o.host, o.port)) return std::nullopt;
    } else if (arg == "--console") {
      if (!parse_host_port(args.value(), o.console_host, o.console_port)) return std::nullopt;
    } else if (arg == "--console-token-file") {
      o.console_token_file = args.value();
    } else if (arg == "--redis") o.redis_uri = args.value();
    else if (arg == "--mysql") o.mysql_uri = args.value();
    else if (arg == "--prefix") o.prefix = args.value();
    else if (arg == "--roles") o.roles = args.value();
    else return std::nullopt;
  }
  if (o.redis_uri.empty() || o.mysql_uri.empty()) return std::nullopt;
  if (!o.console_host.empty() && o.console_token_file.empty()) return std::nullopt;  // never a console without a token
  return o;
}

// Cut at `max` bytes, backing off to a UTF-8 character boundary (the JSON parser has checked
// the encoding; a cut character would be an invalid string for MySQL).
auto cut_utf8(std::string text, std::size_t max) -> std::string {
  if (text.size() <= max) return text;
  auto end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) --end;
  text.resize(end);
  return text;
}

// The message with what varies between occurrences of one error masked: runs of digits become
// "<n>", hex words of 8 or more characters (ids, addresses, hashes) "<hex>"; whitespace is
// collapsed. "timeout after 1500 ms on 0x7f3a9c01" and "timeout after 20 ms on 0x7f00aa10"
// are one error.
auto normalise(std::string_view message) -> std::string {
  std::string out;
  out.reserve(message.size());
  for (std::size_t i = 0; i < message.size();) {
    const auto c = static_cast<unsigned char>(message[i]);
    if (std::isspace(c) != 0) {
      while (i < message.size() && std::isspace(static_cast<unsigned char>(message[i])) != 0) ++i;
      if (!out.empty()) out += ' ';
      continue;
    }
    if (std::isalnum(c) != 0) {
      auto end = i;
      while (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) != 0)) ++end;
      const auto word = message.substr(i, end - i);
      const auto all = [&](auto pred) { return std::all_of(word.begin(), word.end(), [&](char ch) { return pred(static_cast<unsigned char>(ch)); }); };
      const auto hex_body = word.starts_with("0x") ? word.substr(2) : word;
      const bool hex = hex_body.size() >= 8 && std::all_of(hex_body.begin(), hex_body.end(), [](char ch) {
                         return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
                       });
      if (all([](unsigned char ch) { return std::isdigit(ch) != 0; })) out += "<n>";
      else if (hex) out += "<hex>";
      else out += word;
      i = end;
      continue;
    }
    out += message[i++];
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// SHA-256 as 64 lowercase hex digits.
auto sha256_hex(std::string_view text) -> std::string {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  }
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

/// A parsed event, or why the body is refused.
struct parsed_event {
  std::optional<pipeline::record> event;
  std::string refusal;
};

auto parse_event(const std::string& body) -> parsed_event {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return {std::nullopt, fmt::format("body is not JSON: {}", e.what())};
  }
  if (!doc.is_object()) return {std::nullopt, "body must be a JSON object"};
  const auto text_field = [&](const char* name, std::size_t max, bool required) -> std::optional<std::string> {
    const auto it = doc.find(name);
    if (it == doc.end() || it->is_null()) return required ? std::nullopt : std::optional<std::string>{""};
    if (!it->is_string()) return std::nullopt;
    return cut_utf8(it->get<std::string>(), max);
  };
  const auto message = text_field("message", 64 * 1024, true);
  const auto service = text_field("service", 128, false);
  const auto type = text_field("type", 128, false);
  if (!message || message->empty()) return {std::nullopt, "\"message\" must be a non-empty string"};
  if (!service || !type) return {std::nullopt, "\"service\" and \"type\" must be strings when given"};
  auto normalised = cut_utf8(normalise(*message), 1024);
  auto fingerprint = sha256_hex(fmt::format("{}\x1f{}\x1f{}", *service, *type, normalised));
  return {pipeline::record{{"fingerprint", std::move(fingerprint)},
                           {"service", *service},
                           {"type", *type},
                           {"message", std::move(normalised)},
                           {"sample", cut_utf8(*message, 1024)},
                           {"first_seen_at", std::chrono::time_point_cast<std::chrono::microseconds>(
                                                 std::chrono::system_clock::now())}},
          {}};
}

/// What the hot path writes to: one Redis connection's counter and stream producer. Stays at
/// one address (the sink refers to the producer).
struct redis_lane {
  redis_lane(std::shared_ptr<rd::client> c, const rd::counter_store_options& counts, rd::stream_producer p)
      : counters(std::move(c), counts), producer(std::move(p)), events(producer) {}
  redis_lane(const redis_lane&) = delete;
  auto operator=(const redis_lane&) -> redis_lane& = delete;
  redis_lane(redis_lane&&) = delete;
  auto operator=(redis_lane&&) -> redis_lane& = delete;
  ~redis_lane() = default;

  rd::counter_store counters;
  rd::stream_producer producer;
  rd::stream_sink<pipeline::record> events;
};

/// Several Redis connections for the HTTP threads (one connection serves one command at a
/// time). Thread-safe: each thread sticks to one lane, lanes are shared round-robin.
class redis_lanes {
 public:
  static auto open(const options& o, const rd::stream_options& stream, const rd::counter_store_options& counts)
      -> pipeline::result<redis_lanes> {
    redis_lanes lanes;
    for (std::size_t i = 0; i < o.redis_connections; ++i) {
      auto c = rd::client::connect({.uri = o.redis_uri});
      if (!c) return std::move(c).error();
      auto producer = rd::stream_producer::open(*c, stream);
      if (!producer) return std::move(producer).error();
      lanes.lanes_.push_back(std::make_unique<redis_lane>(*c, counts, std::move(*producer)));
    }
    return lanes;
  }

  auto mine() -> redis_lane& {
    thread_local const std::size_t index = next_thread.fetch_add(1);
    return *lanes_[index % lanes_.size()];
  }

 private:
  static inline std::atomic<std::size_t> next_thread{0};
  std::vector<std::unique_ptr<redis_lane>> lanes_;
};

/// Moves the counts from Redis to MySQL, each flush applied once (see the file comment).
/// Not thread-safe: one flusher per prefix (a second one would fail its checkpoint save with
/// a conflict, never double-count).
class flusher {
 public:
  flusher(rd::counter_store counters, my::table_sink counts_sink, my::checkpoint_store checkpoints,
          pipeline::metrics_registry& metrics)
      : counters_(std::move(counters)),
        sink_(std::move(counts_sink)),
        checkpoints_(std::move(checkpoints)),
        flushes_(metrics.register_counter("error_ingestion_flushes_total", "Flushes applied to MySQL")),
        flushed_(metrics.register_counter("error_ingestion_flushed_events_total", "Events counted into MySQL")) {}

  auto flush_once() -> pipeline::result<void> {
    auto applied = checkpoints_.load(checkpoint_key);
    if (!applied) return std::move(applied).error();
    auto pending = counters_.begin_flush();
    if (!pending) return std::move(pending).error();
    if (pending->empty()) return pipeline::ok();
    const auto id = static_cast<std::int64_t>(pending->id);
    if (applied->pos.to_integer() != id) {
      const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
      std::vector<pipeline::record> rows;
      rows.reserve(pending->counts.size());
      std::int64_t events = 0;
      for (const auto& [fingerprint, delta] : pending->counts) {
        rows.push_back(pipeline::record{{"fingerprint", fingerprint}, {"count", delta}, {"last_seen_at", now}});
        events += delta;
      }
      auto saved = sink_.write_with_checkpoint(rows, checkpoint_key, pipeline::position::from_integer(id),
                                               applied->version, {});
      if (!saved) return std::move(saved).error();
      flushes_.inc();
      flushed_.inc(static_cast<std::uint64_t>(events));
    }
    return counters_.confirm_flush(pending->id);
  }

 private:
  static constexpr std::string_view checkpoint_key = "error-ingestion-flush";
  rd::counter_store counters_;
  my::table_sink sink_;
  my::checkpoint_store checkpoints_;
  pipeline::counter& flushes_;
  pipeline::counter& flushed_;
};

// Answers a JSON error body.
void refuse(httplib::Response& res, int status, std::string_view reason) {
  res.status = status;
  // The parser's message quotes the input, which may not be UTF-8: replace what is not.
  res.set_content(nlohmann::json{{"error", reason}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

auto check_totals(my::database& db, const std::string& prefix, std::int64_t expected) -> int {
  auto totals = my::query_int64(
      db, fmt::format("SELECT (SELECT COALESCE(SUM(`count`), 0) FROM `{0}_counts`), (SELECT COUNT(*) FROM `{0}_counts`), "
                      "(SELECT COUNT(*) FROM `{0}_errors`), (SELECT COUNT(*) FROM `{0}_counts` c LEFT JOIN `{0}_errors` e "
                      "USING (fingerprint) WHERE e.fingerprint IS NULL)",
                      prefix));
  if (!totals) return examples::print_error(totals.error());
  const auto total = totals->at(0).value_or(-1), counted = totals->at(1).value_or(-1),
             known = totals->at(2).value_or(-1), unknown = totals->at(3).value_or(-1);
  const bool ok = total == expected && unknown == 0 && counted == known;
  std::printf("MySQL counts %lld events (expected %lld) in %lld fingerprints, %lld distinct errors stored, "
              "%lld counted but not stored -> %s\n",
              static_cast<long long>(total), static_cast<long long>(expected), static_cast<long long>(counted),
              static_cast<long long>(known), static_cast<long long>(unknown), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}

}  // namespace

// The console's stores and options: reads and changes both need the token of
// --console-token-file.
auto open_console(const options& o, const std::string& checkpoint_table, const std::string& events,
                  const pipeline::metrics_registry& metrics)
    -> pipeline::result<std::pair<std::vector<pipeline::admin::console_store>, pipeline::admin::console_options>> {
  std::ifstream token_file(o.console_token_file);
  std::string token;
  std::getline(token_file, token);
  if (token.empty()) {
    return pipeline::invalid_input_error(fmt::format("--console-token-file {}: no token on its first line", o.console_token_file));
  }
  pipeline::admin::store_names sql;
  sql.dead_letter_table = o.prefix + "_dlq";
  sql.checkpoint_table = checkpoint_table;
  auto mysql_store = pipeline::admin::open_store(o.mysql_uri, sql);
  if (!mysql_store) return std::move(mysql_store).error();
  pipeline::admin::store_names keys;
  keys.prefix = "{" + o.prefix + "}";
  auto redis_store = pipeline::admin::open_store(o.redis_uri, keys);
  if (!redis_store) return std::move(redis_store).error();
  std::vector<pipeline::admin::console_store> stores;
  stores.push_back({"mysql", std::move(*mysql_store), {}});
  stores.push_back({"redis", std::move(*redis_store), {events}});
  pipeline::admin::console_options console_options;
  console_options.token = std::move(token);
  console_options.metrics = &metrics;
  console_options.on_listening = [host = o.console_host](std::uint16_t port) {
    std::printf("console on http://%s:%u/\n", host.c_str(), static_cast<unsigned>(port));
    std::fflush(stdout);
  };
  return std::pair{std::move(stores), std::move(console_options)};
}

int main(int argc, char** argv) {
  const auto o = parse_options(argc, argv);
  if (!o) {
    std::fputs(usage, stderr);
    return 2;
  }
  if (!examples::check_table_prefix(o->prefix)) return 2;
  // Signals are taken by sigwait in main only: every thread started below inherits the mask.
  const sigset_t stop_signals = examples::block_stop_signals();

  auto db_result = my::database::open(o->mysql_uri, {.max_idle_connections = 16});
  if (!db_result) return examples::print_error(db_result.error());
  auto db = *db_result;
  const auto errors_table = o->prefix + "_errors";
  const auto counts_table = o->prefix + "_counts";
  if (o->check_total) return check_totals(*db, o->prefix, *o->check_total);

  for (const auto& ddl : {fmt::format("CREATE TABLE IF NOT EXISTS `{}` (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                                      "fingerprint CHAR(64) NOT NULL UNIQUE, service VARCHAR(128) NOT NULL, "
                                      "type VARCHAR(128) NOT NULL, message TEXT NOT NULL, sample TEXT NOT NULL, "
                                      "first_seen_at DATETIME(6) NOT NULL)",
                                      errors_table),
                          fmt::format("CREATE TABLE IF NOT EXISTS `{}` (fingerprint CHAR(64) PRIMARY KEY, "
                                      "`count` BIGINT NOT NULL, last_seen_at DATETIME(6) NOT NULL)",
                                      counts_table)}) {
    if (auto made = my::execute(*db, ddl); !made) return examples::print_error(made.error());
  }

  pipeline::metrics_registry metrics;
  const rd::stream_options stream{.stream = "{" + o->prefix + "}:events", .group = "inserters", .max_depth = 100'000,
                                  .metrics = &metrics};
  const rd::counter_store_options counts{.name = "{" + o->prefix + "}:counts"};
  const auto checkpoint_table = o->prefix + "_checkpoints";
  // Declared before the role threads, which use them: the threads are joined first.
  std::unique_ptr<flusher> flush;
  std::optional<redis_lanes> lanes;
  std::vector<std::jthread> roles;  // each stopped through its own stop token, joined when destroyed

  if (o->has("worker")) {
    auto consumer = rd::stream_consumer::open({.uri = o->redis_uri}, stream);
    auto inserter = my::table_sink::open(db, {.table = errors_table,
                                              .columns = {"fingerprint", "service", "type", "message", "sample",
                                                          "first_seen_at"},
                                              .mode = my::write_mode::insert_ignore});
    auto dlq = my::dead_letter_table::open(db, {.table = o->prefix + "_dlq"});
    for (const auto* e : {consumer ? nullptr : &consumer.error(), inserter ? nullptr : &inserter.error(),
                          dlq ? nullptr : &dlq.error()}) {
      if (e != nullptr) return examples::print_error(*e);
    }
    roles.emplace_back([&metrics, consumer = std::shared_ptr<rd::stream_consumer>(std::move(*consumer)),
                        inserter = std::make_shared<my::table_sink>(std::move(*inserter)),
                        dlq = std::make_shared<my::dead_letter_table>(std::move(*dlq))](std::stop_token token) {
      pipeline::runner_options worker_options;
      worker_options.name = "error-inserter";
      worker_options.workers = 2;
      worker_options.metrics = &metrics;
      worker_options.retry = {.max_attempts = 0, .max_elapsed = std::chrono::milliseconds{60'000}};
      const auto report = rd::run_worker<pipeline::record>(*consumer, pipeline::identity{}, *inserter, *dlq,
                                                           worker_options, token);
      std::printf("worker: %s, %llu events inserted or already there, %llu dead-lettered\n",
                  std::string(pipeline::to_string(report.status)).c_str(),
                  static_cast<unsigned long long>(report.written), static_cast<unsigned long long>(report.dead_lettered));
      if (report.failure) std::fprintf(stderr, "worker: %s\n", fmt::format("{}", *report.failure).c_str());
    });
  }

  if (o->has("flusher")) {
    auto c = rd::client::connect({.uri = o->redis_uri});
    if (!c) return examples::print_error(c.error());
    auto counts_sink = my::table_sink::open(db, {.table = counts_table,
                                                 .columns = {"fingerprint", "count", "last_seen_at"},
                                                 .mode = my::write_mode::upsert,
                                                 .update_columns = {"last_seen_at"},
                                                 .add_columns = {"count"},
                                                 .checkpoint_table = checkpoint_table});
    auto checkpoints = my::checkpoint_store::open(db, {.table = checkpoint_table});
    auto schedule_store = my::checkpoint_store::open(db, {.table = checkpoint_table});
    if (!counts_sink) return examples::print_error(counts_sink.error());
    if (!checkpoints) return examples::print_error(checkpoints.error());
    if (!schedule_store) return examples::print_error(schedule_store.error());
    flush = std::make_unique<flusher>(rd::counter_store{*c, counts}, std::move(*counts_sink), std::move(*checkpoints),
                                      metrics);
    std::printf("flushing counts to MySQL every %lld s\n", static_cast<long long>(o->flush_seconds));
    std::fflush(stdout);
    roles.emplace_back([&flush, store = pipeline::any_checkpoint_store{std::move(*schedule_store)},
                        every = pipeline::schedule::every(std::chrono::seconds{o->flush_seconds}),
                        job = o->prefix + "-flush"](std::stop_token token) mutable {
      // One flusher at a time across replicas; a replica that dies mid-flush is taken over at
      // the next due time, which finds its flush again.
      // Flushes missed while no flusher was up are not made up: the next due one takes it all.
      pipeline::scheduler flushes{every, store,
                                  {.job = job,
                                   .when_missed = pipeline::missed_policy::skip,
                                   .log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn}}};
      flushes.run(
          [&flush](const pipeline::scheduled_run&, std::stop_token) {
            // A failed flush is only reported: the next one finds it again and applies it once.
            if (auto flushed = flush->flush_once(); !flushed) {
              std::fprintf(stderr, "flush: %s\n", fmt::format("{}", flushed.error()).c_str());
              return pipeline::run_state::failed;
            }
            return pipeline::run_state::completed;
          },
          std::move(token));
    });
  }

  httplib::Server server;
  std::optional<std::jthread> http_thread;
  if (o->has("http")) {
    auto opened = redis_lanes::open(*o, stream, counts);
    if (!opened) return examples::print_error(opened.error());
    lanes.emplace(std::move(*opened));
    auto health_client = rd::client::connect({.uri = o->redis_uri});
    if (!health_client) return examples::print_error(health_client.error());

    auto& accepted = metrics.register_counter("error_ingestion_events_accepted_total", "Events counted (202)");
    auto& first_seen = metrics.register_counter("error_ingestion_events_enqueued_total",
                                                "First sightings since a flush, put on the stream");
    auto& latency = metrics.register_histogram("error_ingestion_hot_path_seconds", "Time from parsed body to 202",
                                               {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05});
    const auto responses = [&](const char* status) -> pipeline::counter& {
      return metrics.register_counter("error_ingestion_responses_total", "HTTP responses by status", {{"status", status}});
    };
    struct by_status {
      pipeline::counter &ok, &bad_request, &too_large, &unavailable, &other;
    };
    auto statuses = std::make_shared<by_status>(by_status{responses("2xx"), responses("400"), responses("413"),
                                                          responses("503"), responses("other")});

    server.new_task_queue = [n = o->http_threads] { return new httplib::ThreadPool(n); };
    server.set_payload_max_length(o->max_body);
    server.set_keep_alive_max_count(100'000);
    server.set_tcp_nodelay(true);
    int listening = -1;
    server.set_socket_options([&listening](int fd) {
      const int yes = 1;
      (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listening = fd;
    });
    server.set_logger([statuses](const httplib::Request&, const httplib::Response& res) {
      auto& n = res.status < 300 ? statuses->ok
                : res.status == 400 ? statuses->bad_request
                : res.status == 413 ? statuses->too_large
                : res.status == 503 ? statuses->unavailable
                                    : statuses->other;
      n.inc();
    });
    server.Post("/errors/log", [&](const httplib::Request& req, httplib::Response& res) {
      auto parsed = parse_event(req.body);
      if (!parsed.event) return refuse(res, 400, parsed.refusal);
      const auto started = std::chrono::steady_clock::now();
      auto& lane = lanes->mine();
      const auto& fingerprint = parsed.event->find("fingerprint")->get<std::string>();
      auto count = lane.counters.add(fingerprint, 1);
      // Not counted (or not known to be): the client may send it again.
      if (!count) return refuse(res, 503, fmt::format("{}", count.error()));
      if (*count == 1) {
        // The count is in: whatever happens to the enqueue, the answer is 202. An event lost
        // here is put on the stream again at its next sighting after a flush.
        if (auto queued = lane.events.write(std::span{&*parsed.event, 1}, {}); queued) first_seen.inc();
        else std::fprintf(stderr, "enqueue: %s\n", fmt::format("{}", queued.error()).c_str());
      }
      accepted.inc();
      latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      res.status = 202;
      res.set_content(fmt::format(R"({{"fingerprint":"{}"}})", fingerprint), "application/json");
    });
    server.Get("/health", [&, redis = *health_client](const httplib::Request&, httplib::Response& res) {
      auto redis_ok = redis->command({"PING"});
      auto mysql_ok = my::query_int64(*db, "SELECT 1");
      res.status = redis_ok && mysql_ok ? 200 : 503;
      res.set_content(nlohmann::json{{"redis", redis_ok ? "ok" : fmt::format("{}", redis_ok.error())},
                                     {"mysql", mysql_ok ? "ok" : fmt::format("{}", mysql_ok.error())}}
                          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      "application/json");
    });
    server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.to_prometheus(), "text/plain; version=0.0.4");
    });

    int port = o->port;
    if (port == 0) port = server.bind_to_any_port(o->host);
    else if (!server.bind_to_port(o->host, port)) port = -1;
    if (port < 0) {
      std::fprintf(stderr, "cannot listen on %s:%d\n", o->host.c_str(), o->port);
      return 1;
    }
    // Debian's cpp-httplib is built with a listen backlog of 5: hundreds of clients connecting
    // at once would see SYNs dropped and 1 s retransmits. Listening again raises the backlog.
    (void)::listen(listening, SOMAXCONN);
    std::printf("listening on http://%s:%d\n", o->host.c_str(), port);
    std::fflush(stdout);
    http_thread.emplace([&server] { server.listen_after_bind(); });
  }

  // The console (docs/console.md) on its own port: the MySQL DLQ table and flush checkpoints,
  // the Redis events stream, and this process's metrics.
  std::optional<pipeline::admin::console> web;
  std::optional<std::jthread> console_thread;
  if (!o->console_host.empty()) {
    auto opened = open_console(*o, checkpoint_table, stream.stream, metrics);
    if (!opened) return examples::print_error(opened.error());
    web.emplace(std::move(opened->first), std::move(opened->second));
    console_thread.emplace([&web, host = o->console_host, port = o->console_port](std::stop_token token) {
      if (auto served = web->listen(static_cast<std::uint16_t>(port), std::move(token), host); !served) {
        std::fprintf(stderr, "console: %s\n", served.error().message.c_str());
      }
    });
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::printf("signal %d: stopping\n", signal_number);
  console_thread.reset();  // stops and joins it
  if (http_thread) {
    server.stop();
    http_thread.reset();  // joins: no request is in progress from here on
  }
  // Let the worker take what the last requests enqueued (bounded wait), then stop the roles.
  if (o->has("worker") && lanes) {
    for (auto waited = 0ms; waited < 10s; waited += 50ms) {
      auto depth = lanes->mine().producer.depth();
      if (depth && depth->total() == 0) break;
      std::this_thread::sleep_for(50ms);
    }
  }
  for (auto& role : roles) role.request_stop();
  roles.clear();
  if (flush) {
    if (auto flushed = flush->flush_once(); !flushed) return examples::print_error(flushed.error());
    std::puts("final flush done");
  }
  return 0;
}
