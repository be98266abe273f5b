// Replaying dead letters once the bug that put them there is fixed. A job loads "id,price"
// lines into a SQLite table; its transform has a bug (it cannot read prices written with a
// thousands separator, "1,250.00") and, with on_defect = dead_letter, those lines go to the
// DLQ table instead of failing the run. Then `pipeline::replay` reads that job's dead letters
// back, runs the fixed transform and writes them to the same table: what the table accepts is
// resolved (removed from the DLQ); what it refuses stays, with one more attempt.
#include <pipeline/pipeline.hpp>
#include <pipeline/sqlite/sqlite.hpp>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Every seventh price has a thousands separator.
auto make_lines(std::int64_t rows) -> std::vector<std::string> {
  std::vector<std::string> lines;
  for (std::int64_t id = 1; id <= rows; ++id) {
    const auto cents = id * 137 % 500'000 + 100;
    const auto whole = cents / 100;
    const auto price = id % 7 == 0 ? fmt::format("{},{:03}.{:02}", whole / 1000 + 1, whole % 1000, cents % 100)
                                   : fmt::format("{}.{:02}", whole, cents % 100);
    lines.push_back(fmt::format("{},\"{}\"", id, price));
  }
  return lines;
}

// "id,"price"" into a record {id, price_cents}. `thousands` says whether "1,250.00" is read.
auto parse_line(const std::string& line, bool thousands) -> pipeline::record {
  const auto comma = line.find(',');
  std::int64_t id = 0;
  std::from_chars(line.data(), line.data() + comma, id);
  std::string price = line.substr(comma + 2, line.size() - comma - 3);  // inside the quotes
  if (thousands) std::erase(price, ',');
  std::int64_t cents = 0;
  for (const char c : price) {
    if (c == '.') continue;
    if (c < '0' || c > '9') throw std::invalid_argument("not a price: " + price);
    cents = cents * 10 + (c - '0');
  }
  return pipeline::record{{"id", id}, {"price_cents", cents}};
}

const auto buggy_parse = [](const std::string& line) { return parse_line(line, false); };
const auto fixed_parse = [](const std::string& line) { return parse_line(line, true); };

}  // namespace

int main(int argc, char** argv) {
  std::int64_t rows = 2000;
  std::filesystem::path path = "prices.db";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    if (arg == "--rows") rows = std::stoll(argv[i + 1]);
    else if (arg == "--database") path = argv[i + 1];
  }
  std::filesystem::remove(path);  // a fresh start each time: the example checks its own result

  auto db = pipeline::sqlite::database::open(path.string()).value();
  pipeline::sqlite::execute(*db, "CREATE TABLE prices (id INTEGER PRIMARY KEY, price_cents INTEGER NOT NULL)").value();
  // Upserting by key: a replayed row written twice (a crash between write and resolve) is
  // still one row.
  auto table = pipeline::sqlite::table_sink::open(db, {.table = "prices",
                                                       .columns = {"id", "price_cents"},
                                                       .mode = pipeline::sqlite::write_mode::upsert,
                                                       .key_columns = {"id"},
                                                       .update_columns = {"price_cents"}})
                   .value();
  auto dlq = pipeline::sqlite::dead_letter_table::open(db).value();
  auto checkpoints = pipeline::sqlite::checkpoint_store::open(db).value();

  // 1. The run with the bug: the lines it throws on are dead-lettered, the run completes.
  pipeline::vector_source<std::string> source{make_lines(rows), 100};
  pipeline::runner_options options;
  options.name = "prices";
  options.workers = 2;
  options.on_defect = pipeline::defect_policy::dead_letter;
  const auto run = pipeline::run(source, buggy_parse, table, dlq, checkpoints, options);
  fmt::print("run: {} read, {} written, {} dead-lettered\n", run.read, run.written, run.dead_lettered);
  if (run.status != pipeline::run_status::completed) return 1;

  // 2. The replay with the fix: this job's defects, decoded as the runner encoded them (the
  // line itself), parsed again and written to the same table.
  pipeline::replay_options<std::string> replay_options;
  replay_options.decode = [](std::string_view payload) -> pipeline::result<std::string> { return std::string(payload); };
  const auto replayed = pipeline::replay(dlq, {.kind = pipeline::error_kind::internal, .job = "prices"}, fixed_parse,
                                         table, replay_options);
  if (!replayed) {
    fmt::print(stderr, "replay: {}\n", replayed.error());
    return 1;
  }
  fmt::print("replay: {} read, {} resolved, {} failed again\n", replayed->read, replayed->resolved,
             replayed->failed_again);

  // 3. Every row once, nothing pending.
  const auto stats = pipeline::sqlite::query_int64(*db, "SELECT COUNT(*), COUNT(DISTINCT id) FROM prices").value();
  const auto pending = dlq.read(pipeline::dead_letter_filter{}, std::nullopt, 1000, {}).value().size();
  const bool table_ok = stats[0] == rows && stats[1] == rows;
  const bool dlq_ok = pending == 0 && replayed->resolved == run.dead_lettered;
  fmt::print("verify: table {} rows ({} distinct), expected {} -> {}; DLQ {} pending -> {}\n", stats[0], stats[1], rows,
             table_ok ? "ok" : "WRONG", pending, dlq_ok ? "ok" : "WRONG");
  return table_ok && dlq_ok ? 0 : 1;
}
