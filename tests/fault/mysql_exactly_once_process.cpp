// The process that tests/fault/mysql_exactly_once_kill_and_resume.sh kills: copies generated
// orders into a MySQL table with NO unique key (a plain INSERT) in exactly-once mode (the
// table sink's batch ledger), with the checkpoint and the DLQ in the same database. Every
// 199th order is malformed (the transform dead-letters it) and every 211th has a negative
// amount (the table's CHECK refuses it: the runner splits its batch). `--verify` checks by
// count and set equality that each good order is in the table once and each bad one in the
// DLQ once, and exits 1 otherwise. A run turned away because another process runs the job
// exits 3.
//   mysql_exactly_once_process --prefix P [--rows N] [--batch N] [--workers N] [--verify] [--drop]
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/runner.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace {

auto malformed(std::int64_t id) -> bool { return id % 199 == 198; }
auto refused(std::int64_t id) -> bool { return id % 211 == 210; }

auto orders(std::int64_t rows) -> std::vector<pipeline::record> {
  std::vector<pipeline::record> out;
  out.reserve(static_cast<std::size_t>(rows));
  for (std::int64_t id = 0; id < rows; ++id) {
    out.push_back({{"id", id}, {"amount", refused(id) ? -1 : id % 1000}, {"note", fmt::format("order {}", id)}});
  }
  return out;
}

auto checked(const pipeline::record& r) -> pipeline::result<pipeline::record> {
  if (malformed(r.find("id")->get<std::int64_t>())) return pipeline::invalid_input_error("malformed order");
  return r;
}

auto count(pipeline::mysql::database& db, const std::string& sql) -> std::int64_t {
  return pipeline::mysql::query_int64(db, sql).value().at(0).value_or(-1);
}

auto verify(pipeline::mysql::database& db, const std::string& prefix, std::int64_t rows) -> bool {
  std::int64_t good = 0;
  std::int64_t bad = 0;
  std::int64_t good_id_sum = 0;
  for (std::int64_t id = 0; id < rows; ++id) {
    if (malformed(id) || refused(id)) {
      ++bad;
    } else {
      ++good;
      good_id_sum += id;
    }
  }
  const auto stored = count(db, fmt::format("SELECT COUNT(*) FROM `{}_orders`", prefix));
  const auto distinct = count(db, fmt::format("SELECT COUNT(DISTINCT id) FROM `{}_orders`", prefix));
  const auto sum = count(db, fmt::format("SELECT COALESCE(SUM(id), 0) FROM `{}_orders`", prefix));
  const auto strays = count(db, fmt::format("SELECT COUNT(*) FROM `{}_orders` WHERE id % 199 = 198 OR id % 211 = 210 "
                                            "OR id < 0 OR id >= {}",
                                            prefix, rows));
  const auto letters = count(db, fmt::format("SELECT COUNT(*) FROM `{}_dlq`", prefix));
  const auto distinct_letters = count(db, fmt::format("SELECT COUNT(DISTINCT position) FROM `{}_dlq`", prefix));
  const auto ledger = count(db, fmt::format("SELECT COUNT(*) FROM `{}_batches`", prefix));
  std::printf("verify: %lld rows (%lld distinct ids, expected %lld; duplicates %lld), %lld letters (%lld distinct, "
              "expected %lld), %lld ledger rows left\n",
              static_cast<long long>(stored), static_cast<long long>(distinct), static_cast<long long>(good),
              static_cast<long long>(stored - distinct), static_cast<long long>(letters),
              static_cast<long long>(distinct_letters), static_cast<long long>(bad), static_cast<long long>(ledger));
  // Distinct ids, their count and their sum equal to the good set's, and no bad id among
  // them: the set of ids is the good set (ids are 0 … rows-1).
  return stored == good && distinct == good && sum == good_id_sum && strays == 0 && letters == bad &&
         distinct_letters == bad && ledger == 0;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  std::string prefix;
  std::int64_t rows = 100'000;
  std::size_t batch = 500;
  std::size_t workers = 4;
  bool check = false;
  bool drop = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto next = [&] { return i + 1 < argc ? std::string{argv[++i]} : std::string{}; };
    if (arg == "--prefix") prefix = next();
    else if (arg == "--rows") rows = std::stoll(next());
    else if (arg == "--batch") batch = std::stoul(next());
    else if (arg == "--workers") workers = std::stoul(next());
    else if (arg == "--verify") check = true;
    else if (arg == "--drop") drop = true;
  }
  const char* uri = std::getenv("PIPELINE_MYSQL_TEST_URI");
  if (prefix.empty() || uri == nullptr) {
    std::fprintf(stderr, "usage: PIPELINE_MYSQL_TEST_URI=... mysql_exactly_once_process --prefix P [...]\n");
    return 2;
  }
  auto db = pipeline::mysql::database::open(uri).value();
  (void)pipeline::mysql::execute(*db, fmt::format("CREATE TABLE IF NOT EXISTS `{}_orders` (id BIGINT NOT NULL, "
                                                  "amount BIGINT CHECK (amount >= 0), note VARCHAR(64)) ENGINE=InnoDB",
                                                  prefix));
  auto sink = pipeline::mysql::table_sink::open(db, {.table = prefix + "_orders",
                                                     .columns = {"id", "amount", "note"},
                                                     .batch_table = prefix + "_batches"})
                  .value();
  auto checkpoints = pipeline::mysql::checkpoint_store::open(db, {.table = prefix + "_checkpoints"}).value();
  auto dlq = pipeline::mysql::dead_letter_table::open(db, {.table = prefix + "_dlq"}).value();
  pipeline::vector_source<pipeline::record> source{orders(rows), batch};
  pipeline::runner_options options;
  options.name = "orders";
  options.workers = workers;
  options.exactly_once = true;
  options.checkpoint_interval = std::chrono::milliseconds{200};
  const auto report = pipeline::run(source, checked, sink, dlq, checkpoints, options);
  std::printf("run: %s, read %llu, written %llu, dead-lettered %llu, skipped %llu\n",
              std::string{pipeline::to_string(report.status)}.c_str(), static_cast<unsigned long long>(report.read),
              static_cast<unsigned long long>(report.written), static_cast<unsigned long long>(report.dead_lettered),
              static_cast<unsigned long long>(report.skipped));
  if (report.status != pipeline::run_status::completed) {
    if (report.failure) std::printf("failure: %s\n", report.failure->message.c_str());
    // 3: turned away because another process runs the job (the two-process check).
    return report.failure && report.failure->kind == pipeline::error_kind::conflict ? 3 : 1;
  }
  const bool exact = !check || verify(*db, prefix, rows);
  if (drop) {
    for (const char* t : {"orders", "batches", "checkpoints", "dlq"}) {
      (void)pipeline::mysql::execute(*db, fmt::format("DROP TABLE IF EXISTS `{}_{}`", prefix, t));
    }
  }
  return exact ? 0 : 1;
}
