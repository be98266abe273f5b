// The real-estate ETL into MongoDB (the system this library replaces went MySQL → MongoDB):
// the same messy listings CSV as 03_listings_etl -> validate and normalise -> an upsert by
// listing id into a MongoDB collection, with the checkpoint, the dead letters and the job
// log in collections beside it. Run it again after a kill: it resumes from the checkpoint,
// and the upsert makes the redone batches harmless.
#include <pipeline/file/csv_source.hpp>
#include <pipeline/mongodb/mongodb.hpp>
#include <pipeline/pipeline.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "command_line.hpp"
#include "listings.hpp"

namespace {

struct options {
  std::int64_t rows = 100'000;
  std::size_t workers = 4;
  std::size_t batch_size = 1000;
  std::filesystem::path input = "listings.csv";
  std::string uri;  // from --uri, else PIPELINE_MONGODB_URI, else PIPELINE_MONGODB_TEST_URI
  std::string database = "real_estate";
  std::int64_t lease_seconds = 30;
  bool regenerate = false;
  bool fresh = false;
  bool verify = false;
  bool drop = false;
};

constexpr const char* usage = R"(usage: listings_to_mongodb [options]
  --rows N          rows to generate when the input does not exist (100000)
  --workers N       worker threads (4)
  --batch N         records per batch (1000)
  --input PATH      the CSV to load (listings.csv); generated when missing
  --uri URI         mongodb:// URI (default: $PIPELINE_MONGODB_URI, then $PIPELINE_MONGODB_TEST_URI)
  --database NAME   where listings, checkpoints, dead letters and runs go (real_estate)
  --lease-seconds N the run's lease on the job (30), renewed every N/3 s: a run paused or cut
                    off for longer is taken over by the next start and ends failed
  --regenerate      write a new input even if one exists
  --fresh           drop the database first (start over instead of resuming)
  --verify          after the run, check that every good row is in the collection once and
                    every bad row in the DLQ; exit 1 otherwise; and list the job's runs as
                    the job log has them
  --drop            drop the database at the end (for test runs)
  --help            this text
)";

auto parse_options(int argc, char** argv) -> std::optional<options> {
  options o;
  examples::command_line args{argc, argv};
  while (const auto arg = args.next_option()) {
    if (arg == "--rows" && args.positive(o.rows)) continue;
    if (arg == "--workers" && args.positive(o.workers)) continue;
    if (arg == "--batch" && args.positive(o.batch_size)) continue;
    if (arg == "--lease-seconds" && args.positive(o.lease_seconds)) continue;
    if (arg == "--input") o.input = args.value();
    else if (arg == "--uri") o.uri = args.value();
    else if (arg == "--database") o.database = args.value();
    else if (arg == "--regenerate") o.regenerate = true;
    else if (arg == "--fresh") o.fresh = true;
    else if (arg == "--verify") o.verify = true;
    else if (arg == "--drop") o.drop = true;
    else return std::nullopt;
  }
  for (const char* variable : {"PIPELINE_MONGODB_URI", "PIPELINE_MONGODB_TEST_URI"}) {
    const char* value = std::getenv(variable);
    if (o.uri.empty() && value != nullptr) o.uri = value;
  }
  if (o.uri.empty() || o.database.empty()) return std::nullopt;
  return o;
}

// Reads the listing ids back through the adapter's own cursor source.
auto stored_ids(const std::shared_ptr<pipeline::mongodb::client>& mongo, const options& o)
    -> pipeline::result<std::pair<std::int64_t, std::set<std::int64_t>>> {
  auto source = pipeline::mongodb::collection_source(
      mongo, {.database = o.database, .collection = "listings", .projection_json = R"({"id": 1})", .batch_size = 5000});
  std::int64_t documents = 0;
  std::set<std::int64_t> ids;
  for (;;) {
    auto next = source.next_batch({});
    if (!next) return std::move(next).error();
    if (!*next) break;
    for (const auto& doc : (*next)->records) {
      ++documents;
      if (const auto* id = doc.find("id"); id != nullptr && id->get_if<std::int64_t>() != nullptr) {
        ids.insert(id->get<std::int64_t>());
      }
    }
  }
  return std::pair{documents, std::move(ids)};
}

auto verify(const options& o, const std::shared_ptr<pipeline::mongodb::client>& mongo,
            const std::set<std::int64_t>& dead_ids, std::size_t dead_entries) -> bool {
  std::set<std::int64_t> expected_bad;
  std::set<std::int64_t> expected_good;
  for (std::int64_t id = 1; id <= o.rows; ++id) {
    (listings::defect_of(id, o.rows) != listings::defect::none ? expected_bad : expected_good).insert(id);
  }
  auto stored = stored_ids(mongo, o);
  if (!stored) {
    fmt::print(stderr, "verify: {}\n", stored.error());
    return false;
  }
  const auto& [documents, ids] = *stored;
  // Set equality both ways: every good id once and no other, so no id is in both.
  const auto missing = std::count_if(expected_good.begin(), expected_good.end(), [&](auto id) { return !ids.contains(id); });
  const auto unexpected = std::count_if(ids.begin(), ids.end(), [&](auto id) { return !expected_good.contains(id); });
  const bool collection_ok = documents == static_cast<std::int64_t>(expected_good.size()) && missing == 0 && unexpected == 0;
  const bool dlq_ok = dead_ids == expected_bad;
  fmt::print("verify: collection {} documents ({} distinct ids; {} good missing, {} others), expected the {} good ids "
             "-> {}; DLQ {} entries for {} ids, expected the {} bad ones -> {}\n",
             documents, ids.size(), missing, unexpected, expected_good.size(), collection_ok ? "ok" : "WRONG",
             dead_entries, dead_ids.size(), expected_bad.size(), dlq_ok ? "ok" : "WRONG");
  return collection_ok && dlq_ok;
}

// The job's runs, newest first, as the job log has them: "run 3: completed, read … written …".
void print_runs(pipeline::any_job_log_store& job_log, const std::string& job) {
  auto runs = job_log.runs(job, 20);
  if (!runs) {
    fmt::print(stderr, "job log: {}\n", runs.error());
    return;
  }
  for (const auto& r : *runs) {
    fmt::print("run {}: {}, read {} written {} dead-lettered {}{}{}\n", r.id, to_string(r.state), r.read, r.written,
               r.dead_lettered, r.message.empty() ? "" : ": ", r.message);
  }
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

  // A server that is down or restarting is waited for (5 minutes by default), with its
  // outages logged to stderr.
  auto mongo = pipeline::mongodb::client::open(
      opts->uri, {.log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn}});
  if (opts->fresh) mongo->drop_database(opts->database).value();
  namespace mdb = pipeline::mongodb;
  // Upsert by the listing id: a batch redone after a crash or a retry changes nothing.
  auto listings_sink = mdb::collection_sink(
      mongo, {.database = opts->database, .collection = "listings", .mode = mdb::write_mode::upsert, .key_fields = {"id"}});
  auto checkpoints = mdb::checkpoint_store::open(mongo, {.database = opts->database}).value();
  auto dlq = mdb::dead_letter_collection(mongo, {.database = opts->database});
  pipeline::any_job_log_store job_log{mdb::job_log::open(mongo, {.database = opts->database}).value()};

  pipeline::file::csv_source source{{.path = opts->input,
                                     .batch_size = opts->batch_size,
                                     .delimiter = ',',
                                     .has_header = true,
                                     .max_record_bytes = 1 << 20,
                                     .read_buffer_bytes = 64 << 10}};

  pipeline::runner_options run_options;
  run_options.name = "listings_to_mongodb";
  run_options.workers = opts->workers;
  run_options.queue_capacity = 8;  // memory: 8 batches in the queue, whatever the input size
  run_options.job_log = &job_log;
  run_options.expected_records = static_cast<std::uint64_t>(opts->rows);
  run_options.log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn};
  run_options.lease.lease = std::chrono::seconds{opts->lease_seconds};
  run_options.heartbeat_interval = std::chrono::milliseconds{opts->lease_seconds * 1000 / 3};

  const auto report = pipeline::run(source, listings::normalise, listings_sink, dlq, checkpoints, run_options);

  const auto dead = listings::summarise_dead_letters<std::string>(
      [&](const std::string& after, std::size_t limit) { return dlq.read(after, limit); }, opts->verify);
  listings::print_report(report, dead, fmt::format("{}.pipeline_dead_letters", opts->database));

  const bool ok = report.status == pipeline::run_status::completed &&
                  (!opts->verify || verify(*opts, mongo, dead.ids, dead.entries));
  if (opts->verify) print_runs(job_log, run_options.name);
  if (opts->drop) {
    if (auto dropped = mongo->drop_database(opts->database); !dropped) fmt::print(stderr, "drop: {}\n", dropped.error());
  }
  return ok ? 0 : 1;
}
