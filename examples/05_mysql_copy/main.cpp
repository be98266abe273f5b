// MySQL -> MySQL: a generated `people` table is copied, transformed, into `people_clean` by
// pipeline::run with a keyset source, an upsert sink, and the checkpoint, dead letters and
// job log in the same database. About 1% of the rows are bad (an age below zero, which the
// target's CHECK refuses; an e-mail too long for its column): they end in the DLQ with the
// server's message, every other row in the target exactly once. Stop it at any moment and
// run it again: it resumes after its checkpoint.
//
//     mysql_copy --uri mysql://etl:secret@127.0.0.1:3306/shop --rows 1000000 --verify
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/pipeline.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "../common/command_line.hpp"
#include "../common/table_prefix.hpp"

namespace {

struct options {
  std::string uri;
  std::int64_t rows = 100'000;
  std::size_t workers = 4;
  std::size_t batch_size = 1000;
  std::string prefix = fmt::format("copy{}", ::getpid());
  bool verify = false;
  bool drop = false;
  bool bad = true;
};

constexpr const char* usage = R"(usage: mysql_copy [options]
  --uri URI      mysql://user:password@host:port/db (default: $PIPELINE_MYSQL_TEST_URI)
  --rows N       rows to generate when the source table does not exist (100000)
  --workers N    worker threads (4)
  --batch N      rows per batch (1000)
  --prefix NAME  table name prefix (copy<pid>): NAME_people, NAME_people_clean, NAME_dlq, ...
  --verify       check that every good row is in the target once and every bad one in the DLQ
  --drop         drop the tables at the end
  --no-bad-rows  generate only good rows (to time a plain copy)
)";

auto parse_options(int argc, char** argv) -> std::optional<options> {
  options o;
  if (const char* env = std::getenv("PIPELINE_MYSQL_TEST_URI")) o.uri = env;
  examples::command_line args{argc, argv};
  while (const auto arg = args.next_option()) {
    if (arg == "--rows" && args.positive(o.rows)) continue;
    if (arg == "--workers" && args.positive(o.workers)) continue;
    if (arg == "--batch" && args.positive(o.batch_size)) continue;
    if (arg == "--uri") o.uri = args.value();
    else if (arg == "--prefix") o.prefix = args.value();
    else if (arg == "--verify") o.verify = true;
    else if (arg == "--drop") o.drop = true;
    else if (arg == "--no-bad-rows") o.bad = false;
    else return std::nullopt;
  }
  if (o.uri.empty()) return std::nullopt;
  return o;
}

// Row `id` is bad when id % 101 == 0 (age -1) or id % 157 == 0 (a 40-character e-mail).
auto bad_rows(std::int64_t rows) -> std::int64_t {
  return rows / 101 + rows / 157 - rows / (101 * 157);
}

// The transform: the name title-cased, the e-mail lower-cased, its domain split out.
auto clean(const pipeline::record& r) -> pipeline::result<pipeline::record> {
  const auto* name = r.find("name")->get_if<std::string>();
  const auto* email = r.find("email")->get_if<std::string>();
  if (name == nullptr || email == nullptr) return pipeline::invalid_input_error("name or email is missing");
  std::string title = *name;
  for (std::size_t i = 0; i < title.size(); ++i) {
    const auto c = static_cast<unsigned char>(title[i]);
    title[i] = static_cast<char>(i == 0 || title[i - 1] == ' ' ? std::toupper(c) : std::tolower(c));
  }
  std::string lower = *email;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = lower.find('@');
  if (at == std::string::npos) return pipeline::invalid_input_error(fmt::format("email '{}' has no @", *email));
  return pipeline::record{{"id", *r.find("id")},
                          {"name", std::move(title)},
                          {"email", lower},
                          {"domain", lower.substr(at + 1)},
                          {"age", *r.find("age")},
                          {"registered", *r.find("registered")}};
}

auto check(pipeline::result<void> r, std::string_view what) -> bool {
  if (!r) std::fprintf(stderr, "%s: %s\n", std::string(what).c_str(), fmt::format("{}", r.error()).c_str());
  return static_cast<bool>(r);
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse_options(argc, argv);
  if (!o) {
    std::fputs(usage, stderr);
    return 2;
  }
  namespace my = pipeline::mysql;
  // An outage of the server (a restart) is waited out, for 5 minutes by default; its start and
  // end are logged here.
  auto db_result = my::database::open(
      o->uri, {.log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn}});
  if (!db_result) {
    std::fprintf(stderr, "%s\n", fmt::format("{}", db_result.error()).c_str());
    return 1;
  }
  auto db = *db_result;
  const auto source_table = o->prefix + "_people";
  const auto target_table = o->prefix + "_people_clean";
  const auto dlq_table = o->prefix + "_dlq";
  const auto checkpoint_table = o->prefix + "_checkpoints";
  const auto log_table = o->prefix + "_runs";
  // The prefix goes into the CREATE and INSERT below, which this program writes itself.
  if (!examples::check_table_prefix(o->prefix)) return 2;

  // The source, generated once with the server's sequence engine (fast, no round trips).
  if (!check(my::execute(*db, fmt::format("CREATE TABLE IF NOT EXISTS `{}` (id BIGINT PRIMARY KEY, "
                                          "name VARCHAR(64) NOT NULL, email VARCHAR(64) NOT NULL, age INT NOT NULL, "
                                          "registered DATE NOT NULL)",
                                          source_table)),
             "creating the source") ||
      !check(my::execute(*db, fmt::format("INSERT IGNORE INTO `{0}` SELECT seq, CONCAT('person ', LOWER(HEX(seq))), "
                                          "IF({1} AND seq % 157 = 0, CONCAT(REPEAT('x', 30), '@EXAMPLE.ORG'), "
                                          "CONCAT('P', seq, '@Example.org')), IF({1} AND seq % 101 = 0, -1, 18 + seq % 60), "
                                          "'2023-01-01' + INTERVAL (seq % 730) DAY FROM seq_1_to_{2}",
                                          source_table, o->bad ? 1 : 0, o->rows)),
             "generating the source") ||
      !check(my::execute(*db, fmt::format("CREATE TABLE IF NOT EXISTS `{}` (id BIGINT PRIMARY KEY, "
                                          "name VARCHAR(64) NOT NULL, email VARCHAR(32) NOT NULL, "
                                          "domain VARCHAR(32) NOT NULL, age INT NOT NULL CHECK (age >= 0), "
                                          "registered DATE NOT NULL)",
                                          target_table)),
             "creating the target")) {
    return 1;
  }

  auto source = my::keyset_source::open(db, {.table = source_table, .key_columns = {"id"}, .batch_size = o->batch_size});
  auto sink = my::table_sink::open(db, {.table = target_table,
                                        .columns = {"id", "name", "email", "domain", "age", "registered"},
                                        .mode = my::write_mode::upsert,
                                        .update_columns = {"name", "email", "domain", "age", "registered"}});
  auto dlq = my::dead_letter_table::open(db, {.table = dlq_table});
  auto checkpoints = my::checkpoint_store::open(db, {.table = checkpoint_table});
  auto log = my::job_log::open(db, {.table = log_table});
  if (!source || !sink || !dlq || !checkpoints || !log) {
    for (const auto* e : {source ? nullptr : &source.error(), sink ? nullptr : &sink.error(),
                          dlq ? nullptr : &dlq.error(), checkpoints ? nullptr : &checkpoints.error(),
                          log ? nullptr : &log.error()}) {
      if (e != nullptr) std::fprintf(stderr, "%s\n", fmt::format("{}", *e).c_str());
    }
    return 1;
  }
  pipeline::any_job_log_store any_log{std::ref(*log)};
  pipeline::runner_options run_options;
  run_options.name = "people-copy";
  run_options.workers = o->workers;
  run_options.job_log = &any_log;
  const auto report = pipeline::run(*source, clean, *sink, *dlq, *checkpoints, run_options);
  std::printf("%s: read %llu, written %llu, dead-lettered %llu, retried %llu in %.2f s\n",
              std::string(pipeline::to_string(report.status)).c_str(), static_cast<unsigned long long>(report.read),
              static_cast<unsigned long long>(report.written), static_cast<unsigned long long>(report.dead_lettered),
              static_cast<unsigned long long>(report.retried), std::chrono::duration<double>(report.duration).count());
  if (report.failure) std::fprintf(stderr, "%s\n", fmt::format("{}", *report.failure).c_str());

  int status = report.status == pipeline::run_status::completed ? 0 : 1;
  if (o->verify && status == 0) {
    const auto bad = o->bad ? bad_rows(o->rows) : 0;
    const auto count = [&](const std::string& sql) {
      auto r = my::query_int64(*db, sql);
      return r ? r->at(0).value_or(-1) : -1;
    };
    const auto target = count(fmt::format("SELECT COUNT(*) FROM `{}`", target_table));
    const auto good_ids = count(fmt::format("SELECT COUNT(*) FROM `{}` t JOIN `{}` s USING (id) WHERE s.age >= 0 "
                                            "AND LENGTH(s.email) <= 32 AND t.email = LOWER(s.email)",
                                            target_table, source_table));
    // The DLQ by set equality, not a count (a row stored twice and another lost would leave
    // the count right): each letter's payload is the row as `{id: 7, name: ...}`, so its id
    // is the number after "{id: ". Bad rows are the source rows the target refuses.
    const auto letter_ids = fmt::format("SELECT CAST(SUBSTRING_INDEX(SUBSTRING(payload, 6), ',', 1) AS SIGNED) AS id "
                                        "FROM `{}` WHERE payload LIKE '{{id: %'",
                                        dlq_table);
    const auto bad_source = fmt::format("SELECT id FROM `{}` WHERE age < 0 OR LENGTH(email) > 32", source_table);
    const auto letters = count(fmt::format("SELECT COUNT(*) FROM `{}`", dlq_table));
    const auto with_id = count(fmt::format("SELECT COUNT(*) FROM ({}) l", letter_ids));
    const auto distinct_ids = count(fmt::format("SELECT COUNT(DISTINCT id) FROM ({}) l", letter_ids));
    const auto of_bad_rows = count(fmt::format("SELECT COUNT(DISTINCT l.id) FROM ({}) l JOIN ({}) b USING (id)",
                                               letter_ids, bad_source));
    // A row in both the target and the DLQ (a write that landed unseen, then dead-lettered).
    const auto in_both = count(fmt::format("SELECT COUNT(*) FROM `{}` t JOIN ({}) l USING (id)", target_table, letter_ids));
    const bool target_ok = target == o->rows - bad && good_ids == target && in_both == 0;
    const bool dlq_ok = letters == bad && with_id == letters && distinct_ids == letters && of_bad_rows == bad;
    std::printf("target %lld rows (expected %lld), %lld of them also in the DLQ -> %s; DLQ %lld entries for %lld "
                "rows, %lld of them bad (expected %lld) -> %s\n",
                static_cast<long long>(target), static_cast<long long>(o->rows - bad),
                static_cast<long long>(in_both), target_ok ? "ok" : "WRONG",
                static_cast<long long>(letters), static_cast<long long>(distinct_ids),
                static_cast<long long>(of_bad_rows), static_cast<long long>(bad), dlq_ok ? "ok" : "WRONG");
    if (!dlq_ok) {
      // Which rows: the first missing and the first stored twice, to start looking from.
      const auto missing = count(fmt::format("SELECT MIN(b.id) FROM ({}) b LEFT JOIN ({}) l USING (id) WHERE l.id IS NULL",
                                             bad_source, letter_ids));
      const auto twice = count(fmt::format("SELECT MIN(id) FROM (SELECT id FROM ({}) l GROUP BY id HAVING COUNT(*) > 1) d",
                                           letter_ids));
      std::printf("DLQ: %lld duplicate entries (first row: %lld), first bad row missing: %lld, entries without an "
                  "id: %lld (-1: none)\n",
                  static_cast<long long>(letters - distinct_ids), static_cast<long long>(twice),
                  static_cast<long long>(missing), static_cast<long long>(letters - with_id));
    }
    if (!target_ok || !dlq_ok) status = 1;
  }
  if (o->drop) {
    for (const auto& t : {source_table, target_table, dlq_table, checkpoint_table, log_table}) {
      (void)my::execute(*db, fmt::format("DROP TABLE IF EXISTS `{}`", t));
    }
  }
  return status;
}
