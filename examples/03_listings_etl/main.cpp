// The flagship: messy real-estate listings, CSV -> validate and normalise -> SQLite warehouse,
// with workers, retries, a dead-letter table, a checkpoint and a job log, all in the
// warehouse file. Kill it at any moment and run it again: it resumes where it stopped, and
// every good row ends in the warehouse exactly once, every bad one in the DLQ.
#include <pipeline/file/csv_source.hpp>
#include <pipeline/pipeline.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

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
  --help            this text
Kill it at any moment and run it again with the same arguments: it resumes.
)";

auto parse_options(int argc, char** argv) -> std::optional<options> {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto next = [&]() -> std::string_view { return i + 1 < argc ? argv[++i] : ""; };
    const auto number = [&](auto& out) {
      const auto text = next();
      return std::from_chars(text.data(), text.data() + text.size(), out).ec == std::errc{} && out > 0;
    };
    if (arg == "--rows" && number(o.rows)) continue;
    if (arg == "--workers" && number(o.workers)) continue;
    if (arg == "--batch" && number(o.batch_size)) continue;
    if (arg == "--input") o.input = next();
    else if (arg == "--warehouse") o.warehouse = next();
    else if (arg == "--regenerate") o.regenerate = true;
    else if (arg == "--verify") o.verify = true;
    else if (arg == "--single-loop") o.single_loop = true;
    else return std::nullopt;
  }
  return o;
}

// --- the input: deterministic, about 1% bad -------------------------------------------

enum class defect { none, missing_fields, bad_price, impossible_date, invalid_utf8, huge_line };

auto defect_of(std::int64_t id, std::int64_t rows) -> defect {
  if (id == rows / 2) return defect::huge_line;  // one 10 MB line
  if (id % 331 == 0) return defect::missing_fields;
  if (id % 257 == 0) return defect::bad_price;
  if (id % 199 == 0) return defect::impossible_date;
  if (id % 503 == 0) return defect::invalid_utf8;
  return defect::none;
}

void generate(const options& o) {
  static constexpr const char* cities[] = {"Lisboa", "Porto", "Faro", "Braga", "Coimbra", "\"Vila Nova\", Gaia"};
  const auto tmp = std::filesystem::path(o.input).concat(".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << "id,city,price,listed_on,bedrooms\n";
    for (std::int64_t id = 1; id <= o.rows; ++id) {
      std::string city = cities[id % 6];
      if (city.find('"') != std::string::npos) city = "\"\"\"Vila Nova\"\", Gaia\"";  // quoted, with quotes inside
      switch (defect_of(id, o.rows)) {
        case defect::missing_fields: out << id << ',' << city << '\n'; break;
        case defect::bad_price: out << id << ',' << city << ",12O 000.00,2024-05-01,2\n"; break;
        case defect::impossible_date: out << id << ',' << city << ",99000.00,2024-02-30,2\n"; break;
        case defect::invalid_utf8: out << id << ",Lisb\xff\xfe" << "a,150000.00,2024-03-03,1\n"; break;
        case defect::huge_line: out << id << ',' << std::string(10 << 20, 'x') << ",1.00,2024-01-01,1\n"; break;
        case defect::none:
          out << id << ',' << city << ',' << 50'000 + id % 900'000 << '.' << id % 100 / 10 << id % 10 << ",2024-"
              << (1 + id % 12 < 10 ? "0" : "") << 1 + id % 12 << '-' << (1 + id % 28 < 10 ? "0" : "") << 1 + id % 28
              << ',' << id % 6 << '\n';
      }
    }
  }
  std::filesystem::rename(tmp, o.input);  // a killed generator never leaves a half input
}

// --- validate and normalise ------------------------------------------------------------

auto text_of(const pipeline::record& r, std::string_view field) -> pipeline::result<std::string_view> {
  const auto* v = r.find(field);
  const auto* s = v != nullptr ? v->get_if<std::string>() : nullptr;
  if (s == nullptr) return pipeline::invalid_input_error(fmt::format("field '{}' is missing", field));
  return std::string_view{*s};
}

auto integer(std::string_view text, std::string_view what) -> pipeline::result<std::int64_t> {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return pipeline::invalid_input_error(fmt::format("{} '{}' is not a whole number", what, text));
  }
  return v;
}

auto valid_utf8(std::string_view s) -> bool {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n;
  }
  return true;
}

// A CSV row (all strings) becomes a typed warehouse row, or an invalid_input error that the
// runner dead-letters with its message.
auto normalise(const pipeline::record& row) -> pipeline::result<pipeline::record> {
  auto id_text = text_of(row, "id");
  auto city = text_of(row, "city");
  auto price = text_of(row, "price");
  auto date = text_of(row, "listed_on");
  auto bedrooms_text = text_of(row, "bedrooms");
  for (const auto* r : {&id_text, &city, &price, &date, &bedrooms_text}) {
    if (!*r) return r->error();
  }
  auto id = integer(*id_text, "id");
  if (!id) return id.error();
  if (city->empty() || !valid_utf8(*city)) return pipeline::invalid_input_error("city is empty or not UTF-8");
  const auto dot = price->find('.');
  auto units = integer(price->substr(0, dot), "price");
  auto cents = dot == std::string_view::npos ? pipeline::result<std::int64_t>{0} : integer(price->substr(dot + 1), "price cents");
  if (!units || !cents || (dot != std::string_view::npos && price->size() - dot != 3)) {
    return pipeline::invalid_input_error(fmt::format("price '{}' is not a decimal with 2 places", *price));
  }
  if (date->size() != 10 || (*date)[4] != '-' || (*date)[7] != '-') {
    return pipeline::invalid_input_error(fmt::format("date '{}' is not YYYY-MM-DD", *date));
  }
  auto y = integer(date->substr(0, 4), "year");
  auto m = integer(date->substr(5, 2), "month");
  auto d = integer(date->substr(8, 2), "day");
  if (!y || !m || !d ||
      !std::chrono::year_month_day{std::chrono::year{static_cast<int>(*y)}, std::chrono::month{static_cast<unsigned>(*m)},
                                   std::chrono::day{static_cast<unsigned>(*d)}}
           .ok()) {
    return pipeline::invalid_input_error(fmt::format("date '{}' does not exist", *date));
  }
  auto bedrooms = integer(*bedrooms_text, "bedrooms");
  if (!bedrooms || *bedrooms < 0 || *bedrooms > 50) return pipeline::invalid_input_error("bedrooms is not 0-50");
  return pipeline::record{{"id", *id},
                          {"city", std::string(*city)},
                          {"price_cents", *units * 100 + *cents},
                          {"listed_on", std::string(*date)},
                          {"bedrooms", *bedrooms}};
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
      if (auto clean = normalise(row)) {
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

// "date '2024-02-30' does not exist" -> "date '…' does not exist", "line 512: 3 fields" ->
// "line N: N fields": dead letters grouped by reason.
auto reason_of(const std::string& message) -> std::string {
  std::string out;
  bool quoted = false;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    const bool digit = c >= '0' && c <= '9';
    const bool starts_number = digit && (i == 0 || message[i - 1] == ' ' || message[i - 1] == '(');
    if (c == '\'') {
      out += quoted ? "…'" : "'";
      quoted = !quoted;
    } else if (quoted) {
      continue;
    } else if (starts_number) {
      out += 'N';
      while (i + 1 < message.size() && message[i + 1] >= '0' && message[i + 1] <= '9') ++i;
    } else {
      out += c;
    }
  }
  return out;
}

// The leading number of a dead letter's payload: the id, for raw CSV lines and for records.
auto id_in(std::string_view payload) -> std::optional<std::int64_t> {
  const auto first = payload.find_first_of("0123456789");
  if (first == std::string_view::npos) return std::nullopt;
  std::int64_t id = 0;
  std::from_chars(payload.data() + first, payload.data() + payload.size(), id);
  return id;
}

auto verify(const options& o, pipeline::sqlite::database& db, const std::set<std::int64_t>& dead_ids,
            std::size_t dead_entries) -> bool {
  std::set<std::int64_t> expected_bad;
  for (std::int64_t id = 1; id <= o.rows; ++id) {
    if (defect_of(id, o.rows) != defect::none) expected_bad.insert(id);
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
    generate(*opts);
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
  auto dlq = pipeline::sqlite::dead_letter_table::open(db).value();
  pipeline::any_job_log_store job_log{pipeline::sqlite::job_log::open(db).value()};

  pipeline::file::csv_source source{{.path = opts->input,
                                     .batch_size = opts->batch_size,
                                     .delimiter = ',',
                                     .has_header = true,
                                     .max_record_bytes = 1 << 20,
                                     .read_buffer_bytes = 64 << 10}};

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

  const auto report = opts->single_loop ? single_loop(source, warehouse, dlq)
                                         : pipeline::run(source, normalise, warehouse, dlq, checkpoints, run_options);
  if (terminal) std::puts("");

  // Page through the DLQ keeping only counts (and, to verify, ids): memory stays flat however
  // many records were dead-lettered.
  std::map<std::string, std::size_t> reasons;
  std::set<std::int64_t> dead_ids;
  std::size_t dead_entries = 0;
  for (std::int64_t after = 0;;) {
    auto page = dlq.read(after, 1000).value();
    if (page.empty()) break;
    after = page.back().first;
    for (const auto& [id, letter] : page) {
      ++dead_entries;
      ++reasons[reason_of(letter.reason.message)];
      if (opts->verify) {
        if (auto listing = id_in(letter.payload)) dead_ids.insert(*listing);
      }
    }
  }

  fmt::print("{}: read {} written {} dead-lettered {} retried {} in {:.1f} s ({:.0f} records/s); job run {}\n",
             to_string(report.status), report.read, report.written, report.dead_lettered, report.retried,
             std::chrono::duration<double>(report.duration).count(), report.rate_per_second(), report.job_run_id);
  if (report.failure) fmt::print("failure: {}\n", *report.failure);
  fmt::print("dead letters in the warehouse's DLQ table, by reason:\n");
  for (const auto& [reason, n] : reasons) fmt::print("  {:>7}  {}\n", n, reason);

  if (report.status != pipeline::run_status::completed) return 1;
  return opts->verify && !verify(*opts, *db, dead_ids, dead_entries) ? 1 : 0;
}
