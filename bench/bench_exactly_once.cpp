// Exactly-once mode against at-least-once mode (the baseline) through pipeline::run with the
// same sink in the same process: a plain INSERT into a table with no unique key, or appends to
// a JSONL file (the cases that duplicate after a crash without the batch ledger), 4 workers,
// batches of 1,000, clean rows.
// Prints per sink the median wall time of each mode over the repetitions and the throughput
// ratio exactly-once / at-least-once. Target (issue 13): at least 0.9x, for each sink.
//
//     scripts/services.sh --only mysql -- build/release/bench/bench_exactly_once
//         [--rows N] [--repetitions N] [--sinks sqlite,mysql,jsonl]
//
// Rows: id BIGINT NOT NULL, name VARCHAR(32) NOT NULL, n INT; no key. JSONL: a file in the
// temporary directory, opened with its ledger for exactly-once and without for at-least-once
// (buffered, fsynced at each checkpoint). The modes run interleaved (at-least-once,
// exactly-once, at-least-once, …) so that the shared machine's drift falls on both alike; each
// run is checked: the sink holds every row, the ledger none.

#include <pipeline/file/jsonl_sink.hpp>
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/runner.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "flags.hpp"
#include "summary.hpp"

namespace {

constexpr std::size_t batch_rows = 1'000;

struct settings {
  std::int64_t rows = 1'000'000;
  int repetitions = 3;
  std::vector<std::string> sinks{"sqlite", "mysql", "jsonl"};
};

// Rows made as they are read; each batch says where it ends and where each record stands.
class generated_source {
 public:
  using value_type = pipeline::record;
  explicit generated_source(std::int64_t rows) noexcept : rows_(rows) {}

  auto next_batch(std::stop_token) -> pipeline::result<std::optional<pipeline::batch<pipeline::record>>> {
    if (next_ >= rows_) return std::optional<pipeline::batch<pipeline::record>>{};
    pipeline::batch<pipeline::record> b;
    const auto end = std::min(rows_, next_ + static_cast<std::int64_t>(batch_rows));
    for (; next_ < end; ++next_) {
      b.positions.push_back(pipeline::position::from_integer(next_));
      b.records.push_back({{"id", next_}, {"name", fmt::format("name-{:010}", next_)}, {"n", next_ % 100'000}});
    }
    b.end = pipeline::position::from_integer(next_);
    return std::optional{std::move(b)};
  }
  auto seek(const pipeline::position& p) -> pipeline::result<void> {
    next_ = p.to_integer().value_or(0);
    return pipeline::ok();
  }

 private:
  std::int64_t rows_;
  std::int64_t next_ = 0;
};

// What a run left: the rows the sink holds and the ledger's entries.
struct stored_rows {
  std::int64_t rows = 0;
  std::int64_t ledger = 0;
};

// `fresh()` (re)makes the sink empty, untimed; `run` is timed; `stored` counts what is in it.
struct sink_bench {
  std::string label;
  std::function<void()> fresh;
  std::function<double(bool exactly_once, std::int64_t rows)> run;
  std::function<stored_rows(bool exactly_once)> stored;
};

template <class Sink>
auto timed_run(Sink& sink, bool exactly_once, std::int64_t rows) -> double {
  generated_source source{rows};
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::runner_options options;
  options.name = exactly_once ? "exactly" : "at-least";
  options.workers = 4;
  options.exactly_once = exactly_once;
  const auto start = std::chrono::steady_clock::now();
  const auto report = pipeline::run(source, pipeline::identity{}, sink, dlq, checkpoints, options);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (report.status != pipeline::run_status::completed || report.written != static_cast<std::uint64_t>(rows)) {
    throw std::runtime_error(fmt::format("run {}: written {}{}", pipeline::to_string(report.status), report.written,
                                         report.failure ? ": " + report.failure->message : ""));
  }
  return took.count();
}

constexpr std::string_view create_table =
    "CREATE TABLE {} (id BIGINT NOT NULL, name VARCHAR(32) NOT NULL, n INT)";

auto sqlite_bench(const std::string& path) -> sink_bench {
  auto db = pipeline::sqlite::database::open(path).value();
  const auto options = pipeline::sqlite::table_sink_options{.table = "copied", .columns = {"id", "name", "n"}};
  return {"sqlite::table_sink",
          [db] {
            (void)pipeline::sqlite::execute(*db, "DROP TABLE IF EXISTS copied");
            (void)pipeline::sqlite::execute(*db, fmt::format(fmt::runtime(create_table), "copied"));
          },
          [db, options](bool exactly_once, std::int64_t rows) {
            auto sink = pipeline::sqlite::table_sink::open(db, options).value();
            return timed_run(sink, exactly_once, rows);
          },
          [db](bool exactly_once) {
            const auto count = [&](const char* sql) { return pipeline::sqlite::query_int64(*db, sql).value().at(0); };
            return stored_rows{count("SELECT COUNT(*) FROM copied"),
                               exactly_once ? count("SELECT COUNT(*) FROM pipeline_batches") : 0};
          }};
}

auto mysql_bench() -> sink_bench {
  auto db = pipeline::mysql::database::open(bench::required_env("PIPELINE_MYSQL_TEST_URI")).value();
  const auto table = fmt::format("bench_copied_{}", ::getpid());
  const auto options = pipeline::mysql::table_sink_options{.table = table, .columns = {"id", "name", "n"}};
  return {"mysql::table_sink",
          [db, table] {
            (void)pipeline::mysql::execute(*db, fmt::format("DROP TABLE IF EXISTS `{}`", table));
            (void)pipeline::mysql::execute(*db, fmt::format(fmt::runtime(create_table), fmt::format("`{}`", table)) +
                                                    " ENGINE=InnoDB");
          },
          [db, options](bool exactly_once, std::int64_t rows) {
            auto sink = pipeline::mysql::table_sink::open(db, options).value();
            return timed_run(sink, exactly_once, rows);
          },
          [db, table](bool exactly_once) {
            const auto count = [&](const std::string& sql) {
              return pipeline::mysql::query_int64(*db, sql).value().at(0).value_or(-1);
            };
            return stored_rows{count(fmt::format("SELECT COUNT(*) FROM `{}`", table)),
                               exactly_once ? count("SELECT COUNT(*) FROM pipeline_batches") : 0};
          }};
}

// Lines of `path` that start with `prefix`.
auto lines_starting(const std::filesystem::path& path, std::string_view prefix) -> std::int64_t {
  std::ifstream in(path);
  std::int64_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.starts_with(prefix) ? 1 : 0;
  return n;
}

auto jsonl_bench(const std::filesystem::path& path) -> sink_bench {
  auto ledger = path;
  ledger += ".ledger";
  return {"file::jsonl_sink",
          [path, ledger] {
            std::filesystem::remove(path);
            std::filesystem::remove(ledger);
          },
          [path](bool exactly_once, std::int64_t rows) {
            auto sink = pipeline::file::jsonl_sink::open({.path = path, .ledger = exactly_once}).value();
            return timed_run(sink, exactly_once, rows);
          },
          [path, ledger](bool exactly_once) {
            return stored_rows{lines_starting(path, "{"), exactly_once ? lines_starting(ledger, "batch ") : 0};
          }};
}

auto parse(int argc, char** argv) -> settings {
  settings s;
  bench::parse_flags(argc, argv,
                     {{"--rows", [&](const std::string& v) { s.rows = std::stoll(v); }},
                      {"--repetitions", [&](const std::string& v) { s.repetitions = std::stoi(v); }},
                      {"--sinks", [&](const std::string& v) { s.sinks = bench::comma_list(v); }}});
  return s;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  const auto s = parse(argc, argv);
  const auto scratch = std::filesystem::temp_directory_path();
  const auto sqlite_path = (scratch / fmt::format("bench_eo_{}.db", ::getpid())).string();
  const auto jsonl_path = scratch / fmt::format("bench_eo_{}.jsonl", ::getpid());
  std::vector<sink_bench> benches;
  for (const auto& name : s.sinks) {
    if (name == "sqlite") benches.push_back(sqlite_bench(sqlite_path));
    else if (name == "mysql") benches.push_back(mysql_bench());
    else if (name == "jsonl") benches.push_back(jsonl_bench(jsonl_path));
    else throw std::invalid_argument(fmt::format("unknown sink {}", name));
  }
  std::printf("| sink | rows | at-least-once s | exactly-once s | throughput ratio (target >= 0.9x) |\n");
  std::printf("|---|---|---|---|---|\n");
  for (auto& b : benches) {
    std::vector<double> seconds[2];
    for (int rep = 0; rep < s.repetitions; ++rep) {
      for (const bool exactly_once : {false, true}) {
        b.fresh();
        seconds[exactly_once ? 1 : 0].push_back(b.run(exactly_once, s.rows));
        // Every row once, and a completed exactly-once run leaves its ledger empty.
        const auto [rows, ledger] = b.stored(exactly_once);
        if (rows != s.rows || ledger != 0) {
          throw std::runtime_error(fmt::format("{}: {} rows stored of {}, {} ledger rows left", b.label, rows, s.rows, ledger));
        }
        std::fprintf(stderr, "%s %s rep %d: %.2f s\n", b.label.c_str(), exactly_once ? "exactly-once" : "at-least-once",
                     rep, seconds[exactly_once ? 1 : 0].back());
      }
    }
    const double at_least = bench::median(seconds[0]);
    const double exactly = bench::median(seconds[1]);
    std::printf("| %s | %lld | %.2f | %.2f | %.2fx |\n", b.label.c_str(), static_cast<long long>(s.rows), at_least,
                exactly, at_least / exactly);
  }
  std::filesystem::remove(sqlite_path);
  std::filesystem::remove(jsonl_path);
  std::filesystem::remove(std::filesystem::path{jsonl_path} += ".ledger");
  return 0;
}
