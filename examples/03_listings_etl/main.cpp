// The flagship: messy real-estate listings, CSV -> validate and normalise -> SQLite warehouse,
// with workers, retries, a dead-letter table, a checkpoint and a job log, all in the
// warehouse file. Kill it at any moment and run it again: it resumes where it stopped, and
// every good row ends in the warehouse exactly once, every bad one in the DLQ.
#include <pipeline/file/csv_source.hpp>
#include <pipeline/pipeline.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include "command_line.hpp"
#include "listings.hpp"
#include "schedule_option.hpp"
#include "stop_signals.hpp"

#include <unistd.h>

#include <fmt/chrono.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace {

struct options {
  std::int64_t rows = 1'000'000;
  std::size_t workers = 4;
  std::size_t batch_size = 1000;
  std::filesystem::path input = "listings.csv";
  std::filesystem::path warehouse = "warehouse.db";
  bool regenerate = false;
  bool verify = false;
  bool single_loop = false;
  std::string every;  // a schedule: load at each due time
};

constexpr const char* usage = R"(usage: listings_etl [options]
  --rows N          rows to generate when the input does not exist (1000000)
  --workers N       worker threads (4)
  --batch N         records per batch (1000)
  --input PATH      the CSV to load (listings.csv); generated when missing
  --warehouse PATH  the SQLite warehouse, with its checkpoint, DLQ and job log (warehouse.db)
  --regenerate      write a new input even if one exists
  --verify          after the run, check that every good row is in the warehouse once and
                    every bad row in the DLQ; exit 1 otherwise
  --single-loop     the benchmark's baseline: the same read, normalise and write in one
                    hand-written loop, without the runner (no workers, retries, checkpoint,
                    job log or resume); use a fresh --warehouse
  --every TEXT      load at each due time of a schedule ("daily 02:30 Europe/Paris", "every
                    10m": docs/schedule.md) until SIGINT/SIGTERM, one load at a time across
                    every process on the warehouse; each load takes the rows appended to the
                    input since the one before (it resumes from the checkpoint)
  --help            this text
Kill it at any moment and run it again with the same arguments: it resumes.
)";

auto parse_options(int argc, char** argv) -> std::optional<options> {
  options o;
  examples::command_line args{argc, argv};
  while (const auto arg = args.next_option()) {
    if (arg == "--rows" && args.positive(o.rows)) continue;
    if (arg == "--workers" && args.positive(o.workers)) continue;
    if (arg == "--batch" && args.positive(o.batch_size)) continue;
    if (arg == "--input") o.input = args.value();
    else if (arg == "--warehouse") o.warehouse = args.value();
    else if (arg == "--regenerate") o.regenerate = true;
    else if (arg == "--verify") o.verify = true;
    else if (arg == "--single-loop") o.single_loop = true;
    else if (arg == "--every") o.every = args.value();
    else return std::nullopt;
  }
  return o;
}

// --- the run ---------------------------------------------------------------------------

// What a hand-written loop does, the benchmark's baseline: read a batch, normalise each row,
// write the good ones and dead-letter the rest, in one thread. Any error ends it.
auto single_loop(pipeline::file::csv_source& source, pipeline::sqlite::table_sink& warehouse,
                 pipeline::sqlite::dead_letter_table& dlq) -> pipeline::run_report {
  pipeline::run_report report;
  const auto start = std::chrono::steady_clock::now();
  while (auto next = source.next_batch({}).value()) {
    report.read += next->records.size() + next->rejected.size();
    std::vector<pipeline::record> rows;
    std::vector<pipeline::dead_letter> letters = std::move(next->rejected);
    for (const auto& row : next->records) {
      if (auto clean = listings::normalise(row)) {
        rows.push_back(std::move(*clean));
      } else {
        letters.push_back({pipeline::to_payload(row), std::move(clean).error(), 1, next->end, 0,
                           std::chrono::system_clock::now()});
      }
    }
    warehouse.write(std::span<const pipeline::record>{rows}, {}).value();
    dlq.write(std::span<const pipeline::dead_letter>{letters}, {}).value();
    report.written += rows.size();
    report.dead_lettered += letters.size();
  }
  report.status = pipeline::run_status::completed;
  report.duration = std::chrono::steady_clock::now() - start;
  return report;
}

auto print_progress(const pipeline::progress& p, bool terminal) -> void {
  auto line = pipeline::format_progress_line(p);
  if (!terminal) {
    std::puts(line.c_str());
    return;
  }
  const double share = p.total && *p.total > 0 ? static_cast<double>(p.done) / static_cast<double>(*p.total) : 0.0;
  const auto filled = static_cast<int>(std::min(1.0, share) * 30);
  std::printf("\r[%s%s] %s   ", std::string(static_cast<std::size_t>(filled), '#').c_str(),
              std::string(static_cast<std::size_t>(30 - filled), ' ').c_str(), line.c_str());
  std::fflush(stdout);
}

auto verify(const options& o, pipeline::sqlite::database& db, const std::set<std::int64_t>& dead_ids,
            std::size_t dead_entries) -> bool {
  std::set<std::int64_t> expected_bad;
  for (std::int64_t id = 1; id <= o.rows; ++id) {
    if (listings::defect_of(id, o.rows) != listings::defect::none) expected_bad.insert(id);
  }
  auto stats = pipeline::sqlite::query_int64(db, "SELECT COUNT(*), COUNT(DISTINCT id) FROM listings");
  if (!stats) {
    fmt::print(stderr, "verify: {}\n", stats.error());
    return false;
  }
  const auto good = o.rows - static_cast<std::int64_t>(expected_bad.size());
  const bool warehouse_ok = (*stats)[0] == good && (*stats)[1] == good;
  // Once each: the DLQ table skips a batch's entries when a restart dead-letters it again.
  const bool dlq_ok = dead_ids == expected_bad && dead_entries == dead_ids.size();
  fmt::print("verify: warehouse {} rows ({} distinct), expected {} -> {}; DLQ {} entries for {} ids, expected {} -> {}\n",
             (*stats)[0], (*stats)[1], good, warehouse_ok ? "ok" : "WRONG", dead_entries, dead_ids.size(),
             expected_bad.size(), dlq_ok ? "ok" : "WRONG");
  return warehouse_ok && dlq_ok;
}

}  // namespace

int main(int argc, char** argv) {
  const auto opts = parse_options(argc, argv);
  if (!opts) {
    std::fputs(usage, argc > 1 && std::string_view(argv[1]) == "--help" ? stdout : stderr);
    return argc > 1 && std::string_view(argv[1]) == "--help" ? 0 : 2;
  }
  if (opts->regenerate || !std::filesystem::exists(opts->input)) {
    fmt::print("generating {} rows into {}\n", opts->rows, opts->input.string());
    listings::generate(opts->input, opts->rows);
  }

  auto db = pipeline::sqlite::database::open(opts->warehouse.string()).value();
  pipeline::sqlite::execute(*db,
                            "CREATE TABLE IF NOT EXISTS listings (id INTEGER PRIMARY KEY, city TEXT NOT NULL, "
                            "price_cents INTEGER NOT NULL CHECK (price_cents > 0), listed_on TEXT NOT NULL, "
                            "bedrooms INTEGER NOT NULL)")
      .value();
  auto warehouse = pipeline::sqlite::table_sink::open(
                       db, {.table = "listings",
                            .columns = {"id", "city", "price_cents", "listed_on", "bedrooms"},
                            .mode = pipeline::sqlite::write_mode::upsert,
                            .key_columns = {"id"},
                            .update_columns = {"city", "price_cents", "listed_on", "bedrooms"},
                            .add_columns = {},
                            .checkpoint_table = "pipeline_checkpoints"})
                       .value();
  auto checkpoints = pipeline::sqlite::checkpoint_store::open(db).value();
  // On the sink's database object: each batch's dead letters commit with its rows, one
  // transaction (one fsync) a batch (docs/runner.md, "Dead letters in the sink's transaction").
  auto dlq = pipeline::sqlite::dead_letter_table::open(db).value();
  pipeline::any_job_log_store job_log{pipeline::sqlite::job_log::open(db).value()};

  const pipeline::file::csv_source_options csv{.path = opts->input,
                                               .batch_size = opts->batch_size,
                                               .delimiter = ',',
                                               .has_header = true,
                                               .max_record_bytes = 1 << 20,
                                               .read_buffer_bytes = 64 << 10};
  pipeline::file::csv_source source{csv};

  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  pipeline::runner_options run_options;
  run_options.name = "listings";
  run_options.workers = opts->workers;
  run_options.queue_capacity = 8;  // memory: 8 batches in the queue, whatever the input size
  run_options.job_log = &job_log;
  run_options.lease.lease = std::chrono::seconds{15};
  run_options.heartbeat_interval = std::chrono::seconds{5};
  run_options.on_progress = [terminal](const pipeline::progress& p) { print_progress(p, terminal); };
  run_options.progress_interval = std::chrono::milliseconds{terminal ? 200 : 2000};
  run_options.expected_records = static_cast<std::uint64_t>(opts->rows);  // for the ETA
  run_options.log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn};

  if (!opts->every.empty()) {
    const auto when = examples::parse_schedule_option("--every", opts->every);
    if (!when) return 2;
    // SIGINT/SIGTERM end the schedule (a load in progress stops and saves its checkpoint):
    // blocked before any thread starts.
    examples::stop_on_signals stop;
    // The schedule's lease sits in the warehouse beside the checkpoint: one load at a time
    // across processes, each due time loaded once.
    pipeline::any_checkpoint_store schedule_store{std::ref(checkpoints)};
    pipeline::scheduler loads{*when, schedule_store,
                              {.job = "listings-schedule", .job_log = &job_log, .log = run_options.log}};
    run_options.expected_records.reset();  // a load takes what was appended: no ETA
    fmt::print("loading {} at '{}' until SIGINT/SIGTERM\n", opts->input.string(), when->text());
    std::fflush(stdout);
    const auto done = loads.run(
        [&](const pipeline::scheduled_run& due, std::stop_token token) {
          pipeline::file::csv_source appended{csv};  // a fresh reader, which the run moves to the checkpoint
          auto report = pipeline::run(appended, listings::normalise, warehouse, dlq, checkpoints, run_options, token);
          if (terminal) std::puts("");
          fmt::print("load due {:%FT%TZ}: {}, read {}, written {}, dead-lettered {}\n",
                     std::chrono::floor<std::chrono::seconds>(due.due), pipeline::to_string(report.status),
                     report.read, report.written, report.dead_lettered);
          std::fflush(stdout);
          return report;
        },
        stop.token());
    fmt::print("stopped after {} loads ({} failed, {} due times skipped)\n", done.runs, done.failed, done.skipped);
    return 0;
  }

  const auto report = opts->single_loop
                          ? single_loop(source, warehouse, dlq)
                          : pipeline::run(source, listings::normalise, warehouse, dlq, checkpoints, run_options);
  if (terminal) std::puts("");

  const auto dead = listings::summarise_dead_letters<std::int64_t>(
      [&](std::int64_t after, std::size_t limit) { return dlq.read(after, limit); }, opts->verify);
  listings::print_report(report, dead, "the warehouse's DLQ table");

  if (report.status != pipeline::run_status::completed) return 1;
  return opts->verify && !verify(*opts, *db, dead.ids, dead.entries) ? 1 : 0;
}
