// The process that tests/fault/exactly_once_kill_and_resume.sh kills: copies generated orders
// in exactly-once mode into a sink that has no idempotent key, with the checkpoint and the DLQ
// beside it:
//   --sink mysql  a MySQL table with NO unique key (a plain INSERT, the table sink's batch
//                 ledger), tables <name>_orders, _batches, _checkpoints and _dlq in the database
//                 of PIPELINE_MYSQL_TEST_URI;
//   --sink postgres the same in the PostgreSQL database of PIPELINE_POSTGRES_TEST_URI;
//   --sink sqlite a SQLite table with no unique key, the same tables in <name>.db in the
//                 current directory;
//   --sink jsonl  a JSONL file (jsonl_sink and its ledger file), <name>.jsonl (+ .ledger),
//                 <name>.dlq.jsonl and <name>.checkpoints/ in the current directory.
// Every 199th order is malformed (the transform dead-letters it) and every 211th has an amount
// the sink refuses (SQL: negative, against the table's CHECK; JSONL: NaN, which JSON lacks):
// the runner splits its batch. `--verify` checks by count and set equality that each good
// order is in the sink once, each bad one in the DLQ once and the ledger is forgotten, and
// exits 1 otherwise; `--drop` then removes what the run made. A run turned away because another
// process runs the job exits 3.
//   exactly_once_process --sink mysql|postgres|sqlite|jsonl --name N [--rows N] [--batch N] [--workers N] [--verify] [--drop]
#include <pipeline/file/file.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/runner.hpp>
#ifdef PIPELINE_FAULT_WITH_MYSQL
#include <pipeline/mysql/mysql.hpp>
#endif
#ifdef PIPELINE_FAULT_WITH_POSTGRES
#include <pipeline/postgres/postgres.hpp>
#endif
#ifdef PIPELINE_FAULT_WITH_SQLITE
#include <pipeline/sqlite/sqlite.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace {

struct settings {
  std::string sink;
  std::string name;
  std::int64_t rows = 100'000;
  std::size_t batch = 500;
  std::size_t workers = 4;
  bool verify = false;
  bool drop = false;
};

auto malformed(std::int64_t id) -> bool { return id % 199 == 198; }
auto refused(std::int64_t id) -> bool { return id % 211 == 210; }
auto good(std::int64_t id) -> bool { return !malformed(id) && !refused(id); }

// The order ids 0 … rows-1: a vector_source of them gives each its id as its position.
auto order_ids(std::int64_t rows) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(rows));
  std::iota(ids.begin(), ids.end(), std::int64_t{0});
  return ids;
}

// The transform: the order of an id, or an error for a malformed one (dead-lettered); a refused
// order carries `refused_amount`.
auto orders(pipeline::value refused_amount) {
  return [refused_amount = std::move(refused_amount)](const std::int64_t& id) -> pipeline::result<pipeline::record> {
    if (malformed(id)) return pipeline::invalid_input_error("malformed order");
    return pipeline::record{{"id", id},
                            {"amount", refused(id) ? refused_amount : pipeline::value{id % 1000}},
                            {"note", fmt::format("order {}", id)}};
  };
}

// One run; whether it completed.
template <class Sink, class Dlq, class Store>
// The process's exit code: 0 completed, 3 turned away because another process runs the job,
// 1 otherwise.
auto copy_orders(const settings& s, pipeline::value refused_amount, Sink& sink, Dlq& dlq, Store& checkpoints) -> int {
  pipeline::vector_source<std::int64_t> source{order_ids(s.rows), s.batch};
  pipeline::runner_options options;
  options.name = "orders";
  options.workers = s.workers;
  options.exactly_once = true;
  options.checkpoint_interval = std::chrono::milliseconds{200};
  const auto report = pipeline::run(source, orders(std::move(refused_amount)), sink, dlq, checkpoints, options);
  std::printf("run: %s, read %llu, written %llu, dead-lettered %llu, skipped %llu\n",
              std::string{pipeline::to_string(report.status)}.c_str(), static_cast<unsigned long long>(report.read),
              static_cast<unsigned long long>(report.written), static_cast<unsigned long long>(report.dead_lettered),
              static_cast<unsigned long long>(report.skipped));
  if (report.status == pipeline::run_status::completed) return 0;
  if (report.failure) std::printf("failure: %s\n", report.failure->message.c_str());
  return report.failure && report.failure->kind == pipeline::error_kind::conflict ? 3 : 1;
}

// How many good and bad orders there are, and the sum of the good ids.
struct expected_orders {
  std::int64_t good = 0;
  std::int64_t bad = 0;
  std::int64_t good_id_sum = 0;
};

auto expected(std::int64_t rows) -> expected_orders {
  expected_orders e;
  for (std::int64_t id = 0; id < rows; ++id) {
    if (!good(id)) {
      ++e.bad;
    } else {
      ++e.good;
      e.good_id_sum += id;
    }
  }
  return e;
}

#if defined(PIPELINE_FAULT_WITH_MYSQL) || defined(PIPELINE_FAULT_WITH_POSTGRES) || defined(PIPELINE_FAULT_WITH_SQLITE)
// The first column of the first row of a query, in whichever database holds the tables.
using count_query = std::function<std::int64_t(const std::string&)>;

// The tables <prefix>_orders, _dlq and _batches, each name quoted as `quote_char` says
// (MySQL and SQLite both read backquotes; PostgreSQL double quotes).
auto verify_tables(const count_query& count, const std::string& prefix, std::int64_t rows, char quote_char = '`')
    -> bool {
  const auto e = expected(rows);
  const auto table = [&](std::string_view suffix) { return fmt::format("{0}{1}_{2}{0}", quote_char, prefix, suffix); };
  const auto stored = count(fmt::format("SELECT COUNT(*) FROM {}", table("orders")));
  const auto distinct = count(fmt::format("SELECT COUNT(DISTINCT id) FROM {}", table("orders")));
  const auto sum = count(fmt::format("SELECT COALESCE(SUM(id), 0) FROM {}", table("orders")));
  const auto strays = count(fmt::format("SELECT COUNT(*) FROM {} WHERE id % 199 = 198 OR id % 211 = 210 "
                                        "OR id < 0 OR id >= {}",
                                        table("orders"), rows));
  const auto letters = count(fmt::format("SELECT COUNT(*) FROM {}", table("dlq")));
  const auto distinct_letters = count(fmt::format("SELECT COUNT(DISTINCT position) FROM {}", table("dlq")));
  const auto ledger = count(fmt::format("SELECT COUNT(*) FROM {}", table("batches")));
  std::printf("verify: %lld rows (%lld distinct ids, expected %lld; duplicates %lld), %lld letters (%lld distinct, "
              "expected %lld), %lld ledger rows left\n",
              static_cast<long long>(stored), static_cast<long long>(distinct), static_cast<long long>(e.good),
              static_cast<long long>(stored - distinct), static_cast<long long>(letters),
              static_cast<long long>(distinct_letters), static_cast<long long>(e.bad), static_cast<long long>(ledger));
  // Distinct ids, their count and their sum equal to the good set's, and no bad id among
  // them: the set of ids is the good set (ids are 0 … rows-1).
  return stored == e.good && distinct == e.good && sum == e.good_id_sum && strays == 0 && letters == e.bad &&
         distinct_letters == e.bad && ledger == 0;
}
#endif

#if defined(PIPELINE_FAULT_WITH_MYSQL) || defined(PIPELINE_FAULT_WITH_POSTGRES)
// A server adapter's run, its tables <name>_… in the database of the URI in
// `Server::uri_variable`; `Server` names the adapter's types, its functions and its quote.
template <class Server>
auto server_main(const settings& s) -> int {
  const char* uri = std::getenv(Server::uri_variable);
  if (uri == nullptr) {
    std::fprintf(stderr, "exactly_once_process: --sink %s needs %s\n", s.sink.c_str(), Server::uri_variable);
    return 2;
  }
  const auto& prefix = s.name;
  const auto table = [&](std::string_view suffix) {
    return fmt::format("{0}{1}_{2}{0}", Server::quote_char, prefix, suffix);
  };
  // A server restart is waited out (the default outage budget); its start and end are logged.
  auto db = Server::database::open(uri, {.log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn}})
                .value();
  (void)Server::execute(*db, fmt::format("CREATE TABLE IF NOT EXISTS {} (id BIGINT NOT NULL, "
                                         "amount BIGINT CHECK (amount >= 0), note VARCHAR(64)){}",
                                         table("orders"), Server::table_options));
  auto sink = Server::table_sink::open(db, {.table = prefix + "_orders",
                                            .columns = {"id", "amount", "note"},
                                            .batch_table = prefix + "_batches"})
                  .value();
  auto checkpoints = Server::checkpoint_store::open(db, {.table = prefix + "_checkpoints"}).value();
  auto dlq = Server::dead_letter_table::open(db, {.table = prefix + "_dlq"}).value();
  if (const auto rc = copy_orders(s, pipeline::value{std::int64_t{-1}}, sink, dlq, checkpoints); rc != 0) return rc;
  const auto count = [&db](const std::string& sql) { return Server::query_int64(*db, sql).value().at(0).value_or(-1); };
  const bool exact = !s.verify || verify_tables(count, prefix, s.rows, Server::quote_char);
  if (s.drop) {
    for (const char* t : {"orders", "batches", "checkpoints", "dlq"}) {
      (void)Server::execute(*db, fmt::format("DROP TABLE IF EXISTS {}", table(t)));
    }
  }
  return exact ? 0 : 1;
}
#endif

#ifdef PIPELINE_FAULT_WITH_MYSQL
struct mysql_server {
  using database = pipeline::mysql::database;
  using table_sink = pipeline::mysql::table_sink;
  using checkpoint_store = pipeline::mysql::checkpoint_store;
  using dead_letter_table = pipeline::mysql::dead_letter_table;
  static constexpr const char* uri_variable = "PIPELINE_MYSQL_TEST_URI";
  static constexpr char quote_char = '`';
  static constexpr std::string_view table_options = " ENGINE=InnoDB";
  static auto execute(database& db, const std::string& sql) { return pipeline::mysql::execute(db, sql); }
  static auto query_int64(database& db, const std::string& sql) { return pipeline::mysql::query_int64(db, sql); }
};
#endif

#ifdef PIPELINE_FAULT_WITH_POSTGRES
struct postgres_server {
  using database = pipeline::postgres::database;
  using table_sink = pipeline::postgres::table_sink;
  using checkpoint_store = pipeline::postgres::checkpoint_store;
  using dead_letter_table = pipeline::postgres::dead_letter_table;
  static constexpr const char* uri_variable = "PIPELINE_POSTGRES_TEST_URI";
  static constexpr char quote_char = '"';
  static constexpr std::string_view table_options = "";
  static auto execute(database& db, const std::string& sql) { return pipeline::postgres::execute(db, sql); }
  static auto query_int64(database& db, const std::string& sql) { return pipeline::postgres::query_int64(db, sql); }
};
#endif

#ifdef PIPELINE_FAULT_WITH_SQLITE
auto sqlite_main(const settings& s) -> int {
  const auto& prefix = s.name;
  {
    auto db = pipeline::sqlite::database::open(prefix + ".db").value();
    (void)pipeline::sqlite::execute(*db, fmt::format("CREATE TABLE IF NOT EXISTS `{}_orders` (id INTEGER NOT NULL, "
                                                     "amount INTEGER CHECK (amount >= 0), note TEXT)",
                                                     prefix));
    auto sink = pipeline::sqlite::table_sink::open(db, {.table = prefix + "_orders",
                                                        .columns = {"id", "amount", "note"},
                                                        .batch_table = prefix + "_batches"})
                    .value();
    auto checkpoints = pipeline::sqlite::checkpoint_store::open(db, {.table = prefix + "_checkpoints"}).value();
    auto dlq = pipeline::sqlite::dead_letter_table::open(db, {.table = prefix + "_dlq"}).value();
    if (const auto rc = copy_orders(s, pipeline::value{std::int64_t{-1}}, sink, dlq, checkpoints); rc != 0) return rc;
    const auto count = [&db](const std::string& sql) { return pipeline::sqlite::query_int64(*db, sql).value().at(0); };
    if (s.verify && !verify_tables(count, prefix, s.rows)) return 1;
  }
  if (s.drop) {
    for (const char* suffix : {".db", ".db-wal", ".db-shm"}) std::filesystem::remove(prefix + suffix);
  }
  return 0;
}
#endif

// Counts each id in `counts` (ids out of range in `strays`); what does not read back is stray.
void count_ids(std::vector<std::uint8_t>& counts, std::int64_t id, std::int64_t& strays) {
  if (id < 0 || id >= static_cast<std::int64_t>(counts.size())) {
    ++strays;
    return;
  }
  auto& n = counts[static_cast<std::size_t>(id)];
  n = static_cast<std::uint8_t>(std::min(n + 1, 255));
}

auto verify_jsonl(const std::string& name, std::int64_t rows) -> bool {
  const auto e = expected(rows);
  std::vector<std::uint8_t> stored(static_cast<std::size_t>(rows), 0);
  std::vector<std::uint8_t> lettered(static_cast<std::size_t>(rows), 0);
  std::int64_t strays = 0;
  pipeline::file::jsonl_source src{{.path = name + ".jsonl", .batch_size = 10'000}};
  for (;;) {
    auto next = src.next_batch({});
    if (!next) {
      std::printf("verify: reading %s.jsonl: %s\n", name.c_str(), next.error().message.c_str());
      return false;
    }
    if (!*next) break;
    strays += static_cast<std::int64_t>((*next)->rejected.size());  // a line that is no JSON object
    for (const auto& r : (*next)->records) {
      const auto* id = r.find("id");
      const auto* n = id != nullptr ? id->get_if<std::int64_t>() : nullptr;
      if (n == nullptr) ++strays;
      else count_ids(stored, *n, strays);
    }
  }
  auto letters = pipeline::file::read_dead_letters(name + ".dlq.jsonl");
  if (!letters) {
    std::printf("verify: reading the DLQ: %s\n", letters.error().message.c_str());
    return false;
  }
  for (const auto& letter : *letters) count_ids(lettered, letter.pos.to_integer().value_or(-1), strays);
  std::int64_t ledger = -1;  // entries left; -1: the ledger does not read back
  if (auto sink = pipeline::file::jsonl_sink::open({.path = name + ".jsonl", .ledger = true})) {
    if (auto listed = sink->committed_batches("orders", {})) ledger = static_cast<std::int64_t>(listed->size());
  }
  std::int64_t once = 0;
  std::int64_t wrong = 0;  // a good id missing or repeated, a bad one stored, …
  for (std::int64_t id = 0; id < rows; ++id) {
    const auto i = static_cast<std::size_t>(id);
    const bool right = good(id) ? stored[i] == 1 && lettered[i] == 0 : stored[i] == 0 && lettered[i] == 1;
    if (!right) ++wrong;
    else if (good(id)) ++once;
  }
  std::printf("verify: %lld good orders once in the file (expected %lld), %lld letters (expected %lld), %lld ids "
              "wrong, %lld strays, %lld ledger entries left\n",
              static_cast<long long>(once), static_cast<long long>(e.good), static_cast<long long>(letters->size()),
              static_cast<long long>(e.bad), static_cast<long long>(wrong), static_cast<long long>(strays),
              static_cast<long long>(ledger));
  // Each id counted where it belongs, once, and nothing else in either file.
  return wrong == 0 && strays == 0 && once == e.good &&
         static_cast<std::int64_t>(letters->size()) == e.bad && ledger == 0;
}

auto jsonl_main(const settings& s) -> int {
  {
    auto opened = pipeline::file::jsonl_sink::open({.path = s.name + ".jsonl", .ledger = true});
    if (!opened) {
      // Another process has the file open: it runs the job (the file's lock turns this one away
      // before the run's lease would, since opening the sink cuts the file back).
      std::printf("turned away: %s\n", opened.error().message.c_str());
      return opened.error().kind == pipeline::error_kind::conflict ? 3 : 1;
    }
    auto& sink = *opened;
    pipeline::file::dead_letter_file dlq{s.name + ".dlq.jsonl"};
    pipeline::file::checkpoint_store checkpoints{s.name + ".checkpoints"};
    const auto rc = copy_orders(s, pipeline::value{std::numeric_limits<double>::quiet_NaN()}, sink, dlq, checkpoints);
    if (rc != 0) return rc;
  }
  const bool exact = !s.verify || verify_jsonl(s.name, s.rows);
  if (s.drop) {
    for (const char* suffix : {".jsonl", ".jsonl.ledger", ".dlq.jsonl", ".checkpoints"}) {
      std::filesystem::remove_all(s.name + suffix);
    }
  }
  return exact ? 0 : 1;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto next = [&] { return i + 1 < argc ? std::string{argv[++i]} : std::string{}; };
    if (arg == "--sink") s.sink = next();
    else if (arg == "--name") s.name = next();
    else if (arg == "--rows") s.rows = std::stoll(next());
    else if (arg == "--batch") s.batch = std::stoul(next());
    else if (arg == "--workers") s.workers = std::stoul(next());
    else if (arg == "--verify") s.verify = true;
    else if (arg == "--drop") s.drop = true;
  }
#ifdef PIPELINE_FAULT_WITH_MYSQL
  if (s.sink == "mysql" && !s.name.empty()) return server_main<mysql_server>(s);
#endif
#ifdef PIPELINE_FAULT_WITH_POSTGRES
  if (s.sink == "postgres" && !s.name.empty()) return server_main<postgres_server>(s);
#endif
#ifdef PIPELINE_FAULT_WITH_SQLITE
  if (s.sink == "sqlite" && !s.name.empty()) return sqlite_main(s);
#endif
  if (s.sink == "jsonl" && !s.name.empty()) return jsonl_main(s);
  std::fprintf(stderr, "usage: exactly_once_process --sink mysql|postgres|sqlite|jsonl --name N [--rows N] [--batch N] [--workers N] "
                       "[--verify] [--drop]\n");
  return 2;
}
