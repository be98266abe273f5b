// Monthly reports: one "report" per user of a `users` table on MySQL or PostgreSQL (the URI's
// scheme picks the adapter), sent through a rate-limited outbox. The job partitions the users
// by registration month (plan_date_intervals), pages each month by id (keyset source, batches
// of 100), has 5 worker
// threads (5 users processed at a time), retries a user whose report fails transiently 3
// times with backoff, dead-letters users with an invalid e-mail (not retried) and users still
// failing after 3 attempts, and records each month's run in a job log with its counts.
//
// The outbox is a file with one line per report sent, keyed by month and user: a report whose
// key is already there is not sent again. Kill the job at any moment (kill -9 included) and run
// it again: each month resumes after its checkpoint, and the batch that was in flight is
// redone without sending any report twice. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
//
//     monthly_reports --uri mysql://etl:secret@127.0.0.1:3306/shop --users 1000000 --per-minute 100
//     monthly_reports --uri postgres://etl:secret@127.0.0.1:5432/shop --users 1000000 --per-minute 100
#include <pipeline/mysql/mysql.hpp>
#include <pipeline/pipeline.hpp>
#include <pipeline/postgres/postgres.hpp>

#include "../common/command_line.hpp"
#include "../common/schedule_option.hpp"
#include "../common/stop_signals.hpp"
#include "../common/table_prefix.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>

namespace {

using namespace std::chrono_literals;
namespace my = pipeline::mysql;
namespace pg = pipeline::postgres;

struct options {
  std::string uri;
  std::string backend = "mysql";  // which server --uri names when it is not given
  std::int64_t users = 1'000'000;
  std::string prefix = "reports";
  std::string outbox;  // default: <prefix>_outbox.txt
  std::uint64_t per_minute = 100;
  std::size_t workers = 5;
  std::size_t months_at_once = 1;
  std::int64_t backoff_ms = 500;
  bool verify = false;
  bool drop = false;
  std::string schedule;  // run the job at each due time of this schedule
};

constexpr const char* usage = R"(usage: monthly_reports [options]
  --uri URI            mysql://user:password@host:port/db or postgres://user:password@host:port/db:
                       the scheme picks the database (default: --backend's test URI)
  --backend NAME       mysql or postgres: the server of $PIPELINE_MYSQL_TEST_URI or
                       $PIPELINE_POSTGRES_TEST_URI when --uri is not given (mysql)
  --users N            users to generate when the users table does not exist (1000000)
  --prefix NAME        table name prefix (reports): NAME_users, NAME_dlq, NAME_checkpoints, NAME_runs
  --outbox PATH        the file reports are "sent" to (NAME_outbox.txt)
  --per-minute N       reports sent per minute at most, all workers together (100)
  --workers N          users processed at a time in a month (5)
  --months-at-once N   months run at the same time (1)
  --backoff-ms N       wait before a failed user's second attempt, doubled for the third (500)
  --verify             check the outbox and the DLQ against the users table
  --drop               drop the tables and remove the outbox at the end
  --schedule TEXT      run the job at each due time ("monthly 1 06:00 Europe/Paris":
                       docs/schedule.md) until SIGINT/SIGTERM, one run at a time across every
                       process on these tables; each run plans the months again and reports to
                       the users not reported yet (months done stay done)
)";

auto parse_options(int argc, char** argv) -> std::optional<options> {
  options o;
  examples::command_line args{argc, argv};
  while (const auto arg = args.next_option()) {
    if (arg == "--users" && args.positive(o.users)) continue;
    if (arg == "--per-minute" && args.positive(o.per_minute)) continue;
    if (arg == "--workers" && args.positive(o.workers)) continue;
    if (arg == "--months-at-once" && args.positive(o.months_at_once)) continue;
    if (arg == "--backoff-ms" && args.positive(o.backoff_ms)) continue;
    if (arg == "--uri") o.uri = args.value();
    else if (arg == "--prefix") o.prefix = args.value();
    else if (arg == "--outbox") o.outbox = args.value();
    else if (arg == "--verify") o.verify = true;
    else if (arg == "--drop") o.drop = true;
    else if (arg == "--schedule") o.schedule = args.value();
    else if (arg == "--backend") o.backend = args.value();
    else return std::nullopt;
  }
  if (o.backend != "mysql" && o.backend != "postgres") return std::nullopt;
  if (o.uri.empty()) {
    const char* env = std::getenv(o.backend == "mysql" ? "PIPELINE_MYSQL_TEST_URI" : "PIPELINE_POSTGRES_TEST_URI");
    if (env == nullptr) return std::nullopt;
    o.uri = env;
  }
  if (o.uri.starts_with("postgres://") || o.uri.starts_with("postgresql://")) o.backend = "postgres";
  else if (o.uri.starts_with("mysql://")) o.backend = "mysql";
  else return std::nullopt;
  if (o.outbox.empty()) o.outbox = o.prefix + "_outbox.txt";
  return o;
}

// The generated data, known here too so that --verify can compute what must have been sent.
// User `id` registered on 2022-01-01 + (id * 7919 % 1096) days (three years, ids spread over
// the months); its e-mail has no @ when id % 53 == 0; its report fails once, transiently, when
// id % 89 == 0 (the retry sends it), and on every attempt when id % 1009 == 0 (dead-lettered
// after 3 attempts).
constexpr std::int64_t registration_days = 1096;
auto email_is_invalid(std::int64_t id) -> bool { return id % 53 == 0; }
auto fails_once(std::int64_t id) -> bool { return id % 89 == 0; }
auto fails_always(std::int64_t id) -> bool { return id % 1009 == 0; }

auto month_of(pipeline::timestamp t) -> std::string {
  const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(t)};
  return fmt::format("{:04}-{:02}", static_cast<int>(day.year()), static_cast<unsigned>(day.month()));
}

auto registration_month(std::int64_t id) -> std::string {
  using namespace std::chrono;
  return month_of(sys_days{2022y / January / 1} + days{id * 7919 % registration_days});
}

// A report on its way out: `key` (month/user) is what makes sending it idempotent.
auto report_key(const pipeline::record& report) -> std::string {
  return fmt::format("{}/{}", report.find("month")->get<std::string>(), report.find("user_id")->get<std::int64_t>());
}

/// An outbox that records what would be sent: one line per report, "month/user<TAB>e-mail<TAB>
/// text", appended to a file. A report whose key is in the file already is skipped, so a batch
/// redone after a crash or a retry sends nothing twice. The keys are loaded at open (memory:
/// one string per report sent, about 60 MB for 1M reports).
///
/// Thread-safe (one mutex around check-and-append). Each write is one write(2) of whole lines
/// on an O_APPEND descriptor: a process killed mid-write leaves whole lines (the kernel finishes
/// the call); durability against a power loss would need an fdatasync per write, not done here.
class outbox_file {
 public:
  using value_type = pipeline::record;

  static auto open(const std::string& path) -> pipeline::result<outbox_file> {
    std::unordered_set<std::string> sent;
    {
      std::ifstream in{path};
      for (std::string line; std::getline(in, line);) sent.insert(line.substr(0, line.find('\t')));
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return pipeline::permanent_error(fmt::format("opening outbox {}: {}", path, std::strerror(errno)));
    return outbox_file{fd, std::move(sent)};
  }

  outbox_file(outbox_file&& other) noexcept : fd_(std::exchange(other.fd_, -1)), sent_(std::move(other.sent_)) {}
  outbox_file(const outbox_file&) = delete;
  auto operator=(const outbox_file&) -> outbox_file& = delete;
  auto operator=(outbox_file&&) -> outbox_file& = delete;
  ~outbox_file() {
    if (fd_ >= 0) ::close(fd_);
  }

  auto write(std::span<const pipeline::record> reports, std::stop_token /*stop*/) -> pipeline::result<void> {
    std::scoped_lock lock{mutex_};
    std::string lines;
    std::vector<std::string> keys;
    for (const auto& r : reports) {
      auto key = report_key(r);
      if (sent_.contains(key) || std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
      lines += fmt::format("{}\t{}\t{}\n", key, r.find("email")->get<std::string>(), r.find("text")->get<std::string>());
      keys.push_back(std::move(key));
    }
    for (std::size_t done = 0; done < lines.size();) {
      const auto n = ::write(fd_, lines.data() + done, lines.size() - done);
      if (n < 0 && errno == EINTR) continue;
      // A short or failed write may have sent part of the lines: the retry sends the rest,
      // and --verify would see a torn line. Disks rarely do this; say it when they do.
      if (n <= 0) return pipeline::transient_error(fmt::format("writing the outbox: {}", std::strerror(errno)));
      done += static_cast<std::size_t>(n);
    }
    sent_.insert(std::make_move_iterator(keys.begin()), std::make_move_iterator(keys.end()));
    return pipeline::ok();
  }

 private:
  outbox_file(int fd, std::unordered_set<std::string> sent) : fd_(fd), sent_(std::move(sent)) {}

  int fd_;
  std::mutex mutex_;
  std::unordered_set<std::string> sent_;
};
static_assert(pipeline::sink<outbox_file>);

/// Makes a user's report. Thread-safe: called by every worker at once.
class report_maker {
 public:
  auto operator()(const pipeline::record& user) -> pipeline::result<pipeline::record> {
    const auto id = user.find("id")->get<std::int64_t>();
    const auto& email = user.find("email")->get<std::string>();
    const auto* registered = user.find("registered")->get_if<pipeline::timestamp>();
    if (registered == nullptr) return pipeline::invalid_input_error(fmt::format("user {} has no registration date", id));
    // Permanent (invalid_input): dead-lettered at once, never retried.
    if (email.find('@') == std::string::npos || email.find(' ') != std::string::npos) {
      return pipeline::invalid_input_error(fmt::format("user {}: invalid e-mail '{}'", id, email));
    }
    // The stand-in for a report service that times out now and then.
    if (fails_always(id)) return pipeline::transient_error(fmt::format("user {}: report service timed out", id));
    if (fails_once(id)) {
      std::scoped_lock lock{mutex_};
      if (failed_once_.insert(id).second) {
        return pipeline::transient_error(fmt::format("user {}: report service timed out (first attempt)", id));
      }
    }
    const auto month = month_of(*registered);
    return pipeline::record{{"user_id", id},
                            {"month", month},
                            {"email", email},
                            {"text", fmt::format("Hello {}, your report for {} is ready.",
                                                 user.find("name")->get<std::string>(), month)}};
  }

 private:
  std::mutex mutex_;
  std::set<std::int64_t> failed_once_;
};

// One adapter's names: the job below is written once for either server. `restrict_to` is the
// adapter's (it marks values as its SQL does).
template <class Database, class KeysetSource, class DeadLetterTable, class CheckpointStore, class JobLog,
          const auto& RestrictTo>
struct adapter {
  using database = Database;
  using keyset_source = KeysetSource;
  using dead_letter_table = DeadLetterTable;
  using checkpoint_store = CheckpointStore;
  using job_log = JobLog;
  static constexpr const auto& restrict_to = RestrictTo;
};
using mysql_adapter = adapter<my::database, my::keyset_source, my::dead_letter_table, my::checkpoint_store,
                              my::job_log, my::restrict_to>;
using postgres_adapter = adapter<pg::database, pg::keyset_source, pg::dead_letter_table, pg::checkpoint_store,
                                 pg::job_log, pg::restrict_to>;

// `name` quoted as an identifier: backticks on MySQL, double quotes on PostgreSQL.
auto quoted(const my::database& /*db*/, std::string_view name) { return fmt::format("`{}`", name); }
auto quoted(const pg::database& /*db*/, std::string_view name) { return fmt::format("\"{}\"", name); }

// Fills the users table with the server's own row generator (no round trips): MariaDB's
// sequence engine, PostgreSQL's generate_series. Users already there are kept.
auto fill_users_sql(const my::database& /*db*/, std::string_view table, std::int64_t users) -> std::string {
  return fmt::format("INSERT IGNORE INTO `{}` SELECT seq, CONCAT('user ', seq), "
                     "IF(seq % 53 = 0, CONCAT('user', seq, '.example.org'), CONCAT('user', seq, '@example.org')), "
                     "'2022-01-01' + INTERVAL (seq * 7919 % {}) DAY FROM seq_1_to_{}",
                     table, registration_days, users);
}
auto fill_users_sql(const pg::database& /*db*/, std::string_view table, std::int64_t users) -> std::string {
  return fmt::format("INSERT INTO \"{}\" SELECT s, 'user ' || s, "
                     "CASE WHEN s % 53 = 0 THEN 'user' || s || '.example.org' ELSE 'user' || s || '@example.org' END, "
                     "DATE '2022-01-01' + (s * 7919 % {})::int FROM generate_series(1, {}) s ON CONFLICT DO NOTHING",
                     table, registration_days, users);
}

// Compares the outbox and the DLQ with what the generated users call for.
template <class Database>
auto verify(Database& db, const options& o, const std::string& dlq_table, const std::string& log_table,
            std::size_t months) -> bool {
  std::int64_t expected_reports = 0, expected_letters = 0;
  for (std::int64_t id = 1; id <= o.users; ++id) {
    (email_is_invalid(id) || fails_always(id) ? expected_letters : expected_reports) += 1;
  }
  std::int64_t lines = 0, wrong = 0;
  std::unordered_set<std::string> keys;
  std::ifstream in{o.outbox};
  for (std::string line; std::getline(in, line);) {
    ++lines;
    const auto key = line.substr(0, line.find('\t'));
    const auto slash = key.find('/');
    std::int64_t id = 0;
    const bool parsed = slash != std::string::npos &&
                        std::from_chars(key.data() + slash + 1, key.data() + key.size(), id).ec == std::errc{};
    if (!parsed || id < 1 || id > o.users || email_is_invalid(id) || fails_always(id) ||
        key.substr(0, slash) != registration_month(id)) {
      ++wrong;
    }
    keys.insert(key);
  }
  const auto duplicates = lines - static_cast<std::int64_t>(keys.size());
  auto letters = query_int64(db, fmt::format("SELECT COUNT(*), SUM(CASE WHEN attempts = 3 THEN 1 ELSE 0 END) FROM {}",
                                             quoted(db, dlq_table)));
  const auto dead = letters ? letters->at(0).value_or(-1) : -1;
  const auto exhausted = letters ? letters->at(1).value_or(0) : -1;
  const bool outbox_ok = lines == expected_reports && duplicates == 0 && wrong == 0;
  const bool dlq_ok = dead == expected_letters && exhausted == o.users / 1009 - o.users / (53 * 1009);
  std::printf("outbox %lld reports (expected %lld, %lld duplicates, %lld unexpected) -> %s; "
              "DLQ %lld (expected %lld, %lld after 3 attempts) -> %s\n",
              static_cast<long long>(lines), static_cast<long long>(expected_reports),
              static_cast<long long>(duplicates), static_cast<long long>(wrong), outbox_ok ? "ok" : "WRONG",
              static_cast<long long>(dead), static_cast<long long>(expected_letters),
              static_cast<long long>(exhausted), dlq_ok ? "ok" : "WRONG");
  // Each month's newest run completed; nothing left pending or running (a killed run's months
  // are marked crashed by the rerun). Months only: --schedule's own runs are beside them.
  auto runs = query_int64(db, fmt::format("SELECT (SELECT COUNT(DISTINCT job) FROM {0} WHERE state = 'completed' "
                                          "AND job LIKE 'monthly-reports/%'), (SELECT COUNT(*) FROM {0} WHERE "
                                          "state IN ('pending', 'running') AND job LIKE 'monthly-reports/%')",
                                          quoted(db, log_table)));
  const auto completed = runs ? runs->at(0).value_or(-1) : -1;
  const auto open_runs = runs ? runs->at(1).value_or(0) : -1;
  const bool log_ok = completed == static_cast<std::int64_t>(months) && open_runs == 0;
  std::printf("job log: %lld of %zu months completed, %lld runs still pending or running -> %s\n",
              static_cast<long long>(completed), months, static_cast<long long>(open_runs), log_ok ? "ok" : "WRONG");
  return outbox_ok && dlq_ok && log_ok;
}

// The job on the server of `o->uri`, through `Adapter`'s names; the exit status.
template <class Adapter>
auto run_reports(const options& o, examples::stop_on_signals& stop) -> int {
  auto db_result = Adapter::database::open(o.uri);
  if (!db_result) return examples::print_error(db_result.error());
  auto db = *db_result;
  const auto users_table = o.prefix + "_users";
  const auto dlq_table = o.prefix + "_dlq";
  const auto checkpoint_table = o.prefix + "_checkpoints";
  const auto log_table = o.prefix + "_runs";

  // The users, generated once with the server's sequence engine (no round trips).
  if (auto made = execute(*db, fmt::format("CREATE TABLE IF NOT EXISTS {} (id BIGINT PRIMARY KEY, "
                                           "name VARCHAR(64) NOT NULL, email VARCHAR(64) NOT NULL, "
                                           "registered DATE NOT NULL)",
                                           quoted(*db, users_table)));
      !made) {
    return examples::print_error(made.error());
  }
  if (auto filled = execute(*db, fill_users_sql(*db, users_table, o.users)); !filled) {
    return examples::print_error(filled.error());
  }

  auto outbox = outbox_file::open(o.outbox);
  auto dlq = Adapter::dead_letter_table::open(db, {.table = dlq_table});
  auto checkpoints = Adapter::checkpoint_store::open(db, {.table = checkpoint_table});
  auto log = Adapter::job_log::open(db, {.table = log_table});
  for (const auto* e : {outbox ? nullptr : &outbox.error(),
                        dlq ? nullptr : &dlq.error(), checkpoints ? nullptr : &checkpoints.error(),
                        log ? nullptr : &log.error()}) {
    if (e != nullptr) return examples::print_error(*e);
  }

  // "N per minute", in bursts of 5: the limited sink hands the outbox 5 reports at a time.
  pipeline::rate_limiter per_minute{o.per_minute, std::chrono::minutes{1}, std::min<std::uint64_t>(5, o.per_minute)};
  pipeline::limited_sink limited_outbox{*outbox, {.rate = &per_minute, .rate_per_record = true}};
  pipeline::any_job_log_store any_log{std::ref(*log)};
  pipeline::runner_options run_options;
  run_options.name = "monthly-reports";
  run_options.workers = o.workers;
  run_options.job_log = &any_log;
  run_options.retry = {.initial = std::chrono::milliseconds{o.backoff_ms}, .max_attempts = 3};
  // A user whose report service keeps timing out is that user's problem, not an outage: after
  // 3 attempts it is dead-lettered and the month goes on (the default would fail the run).
  run_options.when_retries_exhausted = pipeline::exhausted_policy::dead_letter;
  report_maker make_report;

  // One run of the job: plans the months, queues them, runs them. 0 when every month completed.
  std::size_t planned = 0;
  const auto run_job = [&](std::stop_token token) -> int {
    auto months = plan_date_intervals(*db, users_table, "registered", pipeline::interval_unit::month);
    if (!months) return examples::print_error(months.error());
    planned = months->size();
    // Every month is due: `pending` in the job log until its run takes the entry over.
    const auto planned_at = std::chrono::system_clock::now();
    for (const auto& month : *months) {
      if (auto queued = pipeline::enqueue_run(*log, run_options.name + "/" + month.name, planned_at); !queued) {
        return examples::print_error(queued.error());
      }
    }

    const auto reports = pipeline::run_partitions(
        *months,
        [&](const pipeline::partition& month) {
          auto source = Adapter::keyset_source::open(
              db, Adapter::restrict_to({.table = users_table, .key_columns = {"id"}, .batch_size = 100}, month,
                                       "registered"));
          if (!source) throw std::runtime_error(fmt::format("{}", source.error()));
          return std::move(*source);
        },
        make_report, limited_outbox, *dlq, *checkpoints, run_options, o.months_at_once, token);

    std::uint64_t sent = 0, dead = 0, retried = 0;
    int status = 0;
    for (const auto& [month, report] : reports) {
      sent += report.written;
      dead += report.dead_lettered;
      retried += report.retried;
      if (report.status != pipeline::run_status::completed) {
        status = 1;
        std::fprintf(stderr, "%s: %s%s\n", month.name.c_str(), std::string(pipeline::to_string(report.status)).c_str(),
                     report.failure ? fmt::format(" ({})", *report.failure).c_str() : "");
      }
    }
    std::printf("%zu months: %s; reports passed to the outbox %llu, dead-lettered %llu, retried %llu\n",
                reports.size(), status == 0 ? "completed" : "NOT completed", static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(dead), static_cast<unsigned long long>(retried));
    std::fflush(stdout);
    return status;
  };

  int status = 0;
  if (o.schedule.empty()) {
    status = run_job(stop.token());
  } else {
    const auto when = examples::parse_schedule_option("--schedule", o.schedule);
    if (!when) return 2;
    // One run at a time across processes: the schedule's lease sits beside the checkpoints.
    pipeline::any_checkpoint_store schedule_store{std::ref(*checkpoints)};
    pipeline::scheduler monthly{*when, schedule_store,
                                {.job = run_options.name + "-schedule",
                                 .job_log = &any_log,
                                 .log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn}}};
    std::printf("running at '%s' until SIGINT/SIGTERM\n", when->text().c_str());
    std::fflush(stdout);
    const auto done = monthly.run(
        [&](const pipeline::scheduled_run&, std::stop_token token) {
          if (run_job(token) == 0) return pipeline::run_state::completed;
          return token.stop_requested() ? pipeline::run_state::stopped : pipeline::run_state::failed;
        },
        stop.token());
    std::printf("%llu scheduled runs, %llu failed\n", static_cast<unsigned long long>(done.runs),
                static_cast<unsigned long long>(done.failed));
  }
  if (stop.stop_requested()) std::puts("stopped by a signal: run it again to resume");

  if (o.verify && status == 0 && !verify(*db, o, dlq_table, log_table, planned)) status = 1;
  if (o.drop) {
    for (const auto& t : {users_table, dlq_table, checkpoint_table, log_table}) {
      (void)execute(*db, fmt::format("DROP TABLE IF EXISTS {}", quoted(*db, t)));
    }
    std::remove(o.outbox.c_str());
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = examples::options_or_usage(argc, argv, parse_options, usage);
  // The prefix goes into the CREATE and INSERT below, which this program writes itself.
  if (!o || !examples::check_table_prefix(o->prefix)) return 2;
  // SIGINT/SIGTERM stop the job cleanly (each month saves its checkpoint; a rerun resumes):
  // blocked here, before any thread starts.
  examples::stop_on_signals stop;
  return o->backend == "postgres" ? run_reports<postgres_adapter>(*o, stop) : run_reports<mysql_adapter>(*o, stop);
}
