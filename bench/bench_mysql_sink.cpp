// 1M narrow rows (BIGINT, VARCHAR(64), INT) into an InnoDB table through pipeline::mysql's
// table_sink against LOAD DATA LOCAL INFILE of the same rows, in one run, against the server
// of PIPELINE_MYSQL_TEST_URI:
//
//     scripts/services.sh --only mysql -- build/release/bench/bench_mysql_sink
//         --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true   (one line)
//
// The baseline is timed on the LOAD DATA statement alone (its TSV file is written beforehand,
// untimed); the sink cases are timed building the records and writing them, batches of
// 10,000 rows (one transaction each), array-bound. Each iteration starts from an empty
// table. Target (issue 5): the sink at least 0.9x LOAD DATA's rows/s.

#include <pipeline/mysql/mysql.hpp>

#include <benchmark/benchmark.h>

#include "summary.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::int64_t rows = 1'000'000;
constexpr std::int64_t batch_rows = 10'000;

struct fixture {
  std::shared_ptr<pipeline::mysql::database> db;
  std::string table = "bench_sink_" + std::to_string(::getpid());
  std::string tsv = "/tmp/bench_mysql_sink_" + std::to_string(::getpid()) + ".tsv";
};

auto the_fixture() -> fixture& {
  static fixture f = [] {
    const char* uri = std::getenv("PIPELINE_MYSQL_TEST_URI");
    if (uri == nullptr) throw std::runtime_error("PIPELINE_MYSQL_TEST_URI is not set: run under scripts/services.sh");
    fixture made;
    made.db = pipeline::mysql::database::open(uri, {.local_infile = true}).value();
    return made;
  }();
  return f;
}

// Row i: the same in the TSV file and in the records.
auto text_of(std::int64_t i) -> std::string { return fmt::format("name-{:010}-abcdefghijklmnopqrstuvwx", i); }
auto number_of(std::int64_t i) -> std::int64_t { return (i * 7919) % 1'000'000; }

void empty_table(benchmark::State& state) {
  auto& f = the_fixture();
  if (!pipeline::mysql::execute(*f.db, fmt::format("DROP TABLE IF EXISTS `{}`", f.table)) ||
      !pipeline::mysql::execute(*f.db, fmt::format("CREATE TABLE `{}` (id BIGINT PRIMARY KEY, a VARCHAR(64) NOT NULL, "
                                                  "b INT NOT NULL) ENGINE=InnoDB",
                                                  f.table))) {
    state.SkipWithError("cannot create the table");
  }
}

void check_count(benchmark::State& state) {
  auto& f = the_fixture();
  auto n = pipeline::mysql::query_int64(*f.db, fmt::format("SELECT COUNT(*) FROM `{}`", f.table));
  if (!n || n->at(0) != rows) state.SkipWithError("wrong row count");
}

void load_data_local_infile(benchmark::State& state) {
  auto& f = the_fixture();
  {
    std::ofstream out(f.tsv, std::ios::trunc);
    for (std::int64_t i = 0; i < rows; ++i) out << i << '\t' << text_of(i) << '\t' << number_of(i) << '\n';
  }
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    empty_table(state);
    state.ResumeTiming();
    auto r = pipeline::mysql::execute(*f.db, fmt::format("LOAD DATA LOCAL INFILE '{}' INTO TABLE `{}`", f.tsv, f.table));
    if (!r) state.SkipWithError(fmt::format("{}", r.error()).c_str());
    state.PauseTiming();
    check_count(state);
    state.ResumeTiming();
  }
  std::remove(f.tsv.c_str());
}

// Writes batches first, first + step, … of the rows through `sink`.
auto write_batches(pipeline::mysql::table_sink& sink, std::int64_t first, std::int64_t step) -> bool {
  std::vector<pipeline::record> batch;
  for (std::int64_t b = first; b * batch_rows < rows; b += step) {
    batch.clear();
    for (std::int64_t i = b * batch_rows; i < std::min(rows, (b + 1) * batch_rows); ++i) {
      batch.push_back({{"id", i}, {"a", text_of(i)}, {"b", number_of(i)}});
    }
    if (!sink.write(batch, {})) return false;
  }
  return true;
}

template <int Writers>
void table_sink_writers(benchmark::State& state) {
  auto& f = the_fixture();
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    empty_table(state);
    auto sink = pipeline::mysql::table_sink::open(f.db, {.table = f.table, .columns = {"id", "a", "b"},
                                                         .rows_per_statement = batch_rows})
                    .value();
    state.ResumeTiming();
    std::atomic<bool> ok{true};
    {
      std::vector<std::jthread> threads;
      for (int w = 0; w < Writers; ++w) {
        threads.emplace_back([&, w] {
          if (!write_batches(sink, w, Writers)) ok = false;
        });
      }
    }
    if (!ok) state.SkipWithError("a write failed");
    state.PauseTiming();
    check_count(state);
    state.ResumeTiming();
  }
}

constexpr std::array cases{
    bench::bench_case{"load_data_local_infile", "LOAD DATA LOCAL INFILE (TSV written beforehand)",
                      "load_data_local_infile", load_data_local_infile},
    bench::bench_case{"table_sink_1_writer", "mysql::table_sink, 1 writer, array-bound 10k-row batches",
                      "load_data_local_infile", table_sink_writers<1>},
    bench::bench_case{"table_sink_2_writers", "mysql::table_sink, 2 writers in parallel", "load_data_local_infile",
                      table_sink_writers<2>},
};

}  // namespace

auto main(int argc, char** argv) -> int {
  (void)the_fixture();
  const int status = bench::run_benchmarks(argc, argv, cases, rows, bench::measure::wall_items_per_second,
                                           "1,000,000 rows (BIGINT, VARCHAR(64) of 40 chars, INT), wall time");
  (void)pipeline::mysql::execute(*the_fixture().db, fmt::format("DROP TABLE IF EXISTS `{}`", the_fixture().table));
  return status;
}
