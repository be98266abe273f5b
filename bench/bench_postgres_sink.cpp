// 1M narrow rows (BIGINT, TEXT of 40 chars, INT) into a PostgreSQL table through
// pipeline::postgres's table_sink, against `psql \copy` of the same rows, in one run, against
// the server of PIPELINE_POSTGRES_TEST_URI:
//
//     scripts/services.sh --only postgres -- build/release/bench/bench_postgres_sink
//         --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true   (one line)
//
// The baseline is a `psql -c "\copy … FROM 'file'"` process (COPY's text format, as the sink
// sends), timed from its start to its exit; its TSV file is written beforehand, untimed. The
// sink cases are timed building the records and writing them, batches of 10,000 rows (one
// transaction each): a plain insert goes as one COPY FROM STDIN per batch. One COPY case has
// its batches built before the timing starts (as a runner's workers get them, made by other
// threads), to tell the sink's own cost from the records'. The upsert cases
// write the same rows with `INSERT … ON CONFLICT (id) DO UPDATE` and a counter column (`hits`,
// added to): into an empty table (every row new) and into a full one (every row a conflict
// whose counter goes from 1 to 2). Each iteration starts from a fresh table. Target (issue
// 16): the COPY sink at least 0.9x psql's rows/s; the upsert rows/s are reported.

#include <pipeline/postgres/postgres.hpp>

#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>

#include "flags.hpp"
#include "summary.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

constexpr std::int64_t rows = 1'000'000;
constexpr std::int64_t batch_rows = 10'000;

struct server {
  std::string uri = bench::required_env("PIPELINE_POSTGRES_TEST_URI");
  std::shared_ptr<pipeline::postgres::database> db = pipeline::postgres::database::open(uri).value();
  std::string table = "bench_pg_sink_" + std::to_string(::getpid());
  std::string tsv = "/tmp/bench_postgres_sink_" + std::to_string(::getpid()) + ".tsv";
};

auto the_server() -> server& {
  static server s;
  return s;
}

// Row i, the same in the TSV file and in the records.
auto text_of(std::int64_t i) -> std::string { return fmt::format("name-{:010}-abcdefghijklmnopqrstuvwx", i); }
auto number_of(std::int64_t i) -> std::int64_t { return (i * 7919) % 1'000'000; }
auto record_of(std::int64_t i) -> pipeline::record {
  return {{"id", i}, {"a", text_of(i)}, {"b", number_of(i)}, {"hits", std::int64_t{1}}};
}

// A fresh table: (id BIGINT PRIMARY KEY, a TEXT, b INT, hits BIGINT).
auto fresh_table(benchmark::State& state) -> bool {
  auto& s = the_server();
  if (pipeline::postgres::execute(*s.db, fmt::format("DROP TABLE IF EXISTS \"{0}\"; CREATE TABLE \"{0}\" (id BIGINT "
                                                     "PRIMARY KEY, a TEXT NOT NULL, b INT NOT NULL, hits BIGINT NOT "
                                                     "NULL)",
                                                     s.table))) {
    return true;
  }
  state.SkipWithError("cannot create the table");
  return false;
}

// Fails the case unless the table holds every row, each with `hits` as given.
void expect_rows(benchmark::State& state, std::int64_t hits) {
  auto& s = the_server();
  auto n = pipeline::postgres::query_int64(
      *s.db, fmt::format("SELECT COUNT(*), COUNT(*) FILTER (WHERE hits = {}) FROM \"{}\"", hits, s.table));
  if (!n || n->at(0) != rows || n->at(1) != rows) state.SkipWithError("wrong rows in the table");
}

// psql, as a child process, copying the TSV file into the table; its exit status.
auto psql_copy() -> int {
  auto& s = the_server();
  const auto command = fmt::format("\\copy \"{}\" (id, a, b, hits) FROM '{}'", s.table, s.tsv);
  std::vector<std::string> args{"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", s.uri, "-c", command};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "psql", nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void psql_backslash_copy(benchmark::State& state) {
  auto& s = the_server();
  {
    std::ofstream out(s.tsv, std::ios::trunc);
    for (std::int64_t i = 0; i < rows; ++i) out << i << '\t' << text_of(i) << '\t' << number_of(i) << "\t1\n";
  }
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    const bool ready = fresh_table(state);
    state.ResumeTiming();
    if (!ready) break;
    if (psql_copy() != 0) state.SkipWithError("psql \\copy failed");
    state.PauseTiming();
    expect_rows(state, 1);
    state.ResumeTiming();
  }
  std::remove(s.tsv.c_str());
}

// Batches first, first + step, … of the rows through `sink`; false when a write failed.
auto write_every(std::int64_t step, std::int64_t first, pipeline::postgres::table_sink& sink) -> bool {
  std::vector<pipeline::record> batch;
  batch.reserve(batch_rows);
  for (std::int64_t b = first; b * batch_rows < rows; b += step) {
    batch.clear();
    for (std::int64_t i = b * batch_rows; i < std::min(rows, (b + 1) * batch_rows); ++i) batch.push_back(record_of(i));
    if (auto done = sink.write(batch, {}); !done) {
      std::fprintf(stderr, "%s\n", fmt::format("{}", done.error()).c_str());
      return false;
    }
  }
  return true;
}

// Every row through `sink` from `writers` threads at once.
auto write_all(pipeline::postgres::table_sink& sink, int writers) -> bool {
  std::atomic<bool> ok{true};
  std::vector<std::jthread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      if (!write_every(writers, w, sink)) ok = false;
    });
  }
  threads.clear();  // joined
  return ok;
}

auto open_sink(pipeline::postgres::write_mode mode) -> pipeline::postgres::table_sink {
  pipeline::postgres::table_sink_options options;
  options.table = the_server().table;
  options.columns = {"id", "a", "b", "hits"};
  options.mode = mode;
  if (mode == pipeline::postgres::write_mode::upsert) {
    options.key_columns = {"id"};
    options.update_columns = {"a", "b"};
    options.add_columns = {"hits"};
    options.rows_per_statement = batch_rows;
  }
  return pipeline::postgres::table_sink::open(the_server().db, options).value();
}

// One writer sends every row as COPY, its batches built beforehand, untimed.
void copy_sink_prebuilt(benchmark::State& state) {
  std::vector<std::vector<pipeline::record>> batches;
  for (std::int64_t b = 0; b * batch_rows < rows; ++b) {
    auto& batch = batches.emplace_back();
    for (std::int64_t i = b * batch_rows; i < std::min(rows, (b + 1) * batch_rows); ++i) batch.push_back(record_of(i));
  }
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    const bool ready = fresh_table(state);
    auto sink = open_sink(pipeline::postgres::write_mode::insert);
    state.ResumeTiming();
    if (!ready) break;
    for (const auto& batch : batches) {
      if (!sink.write(batch, {})) {
        state.SkipWithError("a write failed");
        break;
      }
    }
    state.PauseTiming();
    expect_rows(state, 1);
    state.ResumeTiming();
  }
}

// `Writers` threads write every row: COPY (insert) or INSERT … ON CONFLICT (upsert), into an
// empty table or, with `Prefilled`, one that holds every row already (their counters then go
// to 2).
template <pipeline::postgres::write_mode Mode, int Writers, bool Prefilled>
void table_sink_case(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    bool ready = fresh_table(state);
    if (ready && Prefilled) {
      auto copy = open_sink(pipeline::postgres::write_mode::insert);
      ready = write_all(copy, 2);
    }
    auto sink = open_sink(Mode);
    state.ResumeTiming();
    if (!ready) break;
    if (!write_all(sink, Writers)) state.SkipWithError("a write failed");
    state.PauseTiming();
    expect_rows(state, Prefilled ? 2 : 1);
    state.ResumeTiming();
  }
}

using pipeline::postgres::write_mode;
constexpr std::array cases{
    bench::bench_case{"psql_copy", "psql \\copy (text, TSV written beforehand, process start to exit)", "psql_copy",
                      psql_backslash_copy},
    bench::bench_case{"copy_sink_1_writer", "postgres::table_sink insert (COPY text), 1 writer, 10k-row batches",
                      "psql_copy", table_sink_case<write_mode::insert, 1, false>},
    bench::bench_case{"copy_sink_prebuilt", "postgres::table_sink insert (COPY text), 1 writer, batches built untimed",
                      "psql_copy", copy_sink_prebuilt},
    bench::bench_case{"copy_sink_2_writers", "postgres::table_sink insert (COPY text), 2 writers", "psql_copy",
                      table_sink_case<write_mode::insert, 2, false>},
    bench::bench_case{"upsert_sink_new_rows", "postgres::table_sink upsert + counter, 1 writer, every row new",
                      "psql_copy", table_sink_case<write_mode::upsert, 1, false>},
    bench::bench_case{"upsert_sink_existing_rows",
                      "postgres::table_sink upsert + counter, 1 writer, every row a conflict", "psql_copy",
                      table_sink_case<write_mode::upsert, 1, true>},
};

}  // namespace

auto main(int argc, char** argv) -> int {
  (void)the_server();
  const int status = bench::run_benchmarks(argc, argv, cases, rows, bench::measure::wall_items_per_second,
                                           "1,000,000 rows (BIGINT, TEXT of 40 chars, INT, BIGINT), wall time");
  (void)pipeline::postgres::execute(*the_server().db, fmt::format("DROP TABLE IF EXISTS \"{}\"", the_server().table));
  return status;
}
