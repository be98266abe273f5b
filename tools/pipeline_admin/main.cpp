// pipeline-admin: an operator's look at a pipeline's stores (docs/console.md).
//
//     pipeline-admin STORE COMMAND [ARGUMENTS] [OPTIONS]
//     pipeline-admin serve --store URI [--store URI…] --listen HOST:PORT --token-file F

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <stop_token>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pipeline/detail/time_text.hpp>
#include <pipeline/error.hpp>

#include <pipeline/console/console.hpp>
#include <pipeline/console/store.hpp>

#include "store_json.hpp"

namespace {

using namespace pipeline;
using admin::store;
using json = nlohmann::json;

constexpr std::string_view usage = R"(usage: pipeline-admin STORE COMMAND [ARGUMENTS] [OPTIONS]
       pipeline-admin serve --store STORE [--store STORE…] --listen HOST:PORT --token-file F
                            [--open-reads] [--queue STREAM…] [--total JOB=N…] [--table T] [--prefix P]

STORE: sqlite:PATH (or a path ending in .db), mysql://user:pass@host:port/db,
       postgresql://user:pass@host:port/db, redis://host:port/db, mongodb://host:port/DB,
       file:DIR (or a directory: DIR/jobs/, DIR/checkpoints/, DIR/dead_letters.jsonl)

commands:
  runs [--job J] [--limit N]           jobs and their newest runs (N per job, 10)
  checkpoint list                      every key with a checkpoint, its position and version
  checkpoint show KEY                  a checkpoint's position and version
  checkpoint reset KEY [--yes]         start KEY over from the beginning
  dlq list [FILTERS] [--text S] [--limit N]   dead letters, oldest first (N: 100)
  dlq show ID                          one dead letter with its whole payload
  dlq purge [FILTERS] [--yes]          remove the dead letters that match
  dlq replay [ID] --to STREAM [FILTERS] [--text S] [--yes]
                                       put letters back on a Redis stream of the same Redis
                                       for the job's workers, and out of the DLQ
  queue STREAM                         a Redis stream's length, groups and consumers
  serve                                the web console (docs/console.md) until SIGINT/SIGTERM:
                                       --listen 127.0.0.1:8081, --token-file F (the bearer token
                                       changes need), --open-reads (reads without it), --queue S
                                       (a Redis stream to show and replay onto; repeatable),
                                       --total JOB=N (JOB's records in all: progress and ETA)

filters: --kind K, --partition P, --job J, --since TIME, --until TIME (ISO-8601 UTC,
         2026-05-01 or 2026-05-01T12:00:00Z; since inclusive, until exclusive)
options: --json, --table T (a SQL table, a MongoDB collection, a name in DIR), --prefix P (Redis,
         "pipeline"), --yes
exit status: 0 done, 1 the store failed, 2 a bad command, URI, name or id, or nothing there
)";

// The command line: its words and its options, each at most once but --store, --queue, --total.
struct command_line {
  std::vector<std::string> words;
  std::map<std::string, std::string, std::less<>> options;
  std::map<std::string, std::vector<std::string>, std::less<>> lists;
  std::set<std::string, std::less<>> flags;

  [[nodiscard]] auto option(std::string_view name) const -> std::optional<std::string> {
    const auto found = options.find(name);
    if (found == options.end()) return std::nullopt;
    return found->second;
  }
};

auto parse_command_line(int argc, char** argv) -> result<command_line> {
  static const std::set<std::string_view> valued{"--table", "--prefix", "--job",  "--limit", "--kind",
                                                 "--partition", "--since", "--until", "--text", "--to",
                                                 "--listen", "--token-file"};
  static const std::set<std::string_view> listed{"--store", "--queue", "--total"};
  static const std::set<std::string_view> flags{"--json", "--yes", "--open-reads"};
  command_line line;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (!word.starts_with("--")) {
      line.words.emplace_back(word);
    } else if (flags.contains(word)) {
      line.flags.emplace(word);
    } else if (listed.contains(word)) {
      if (i + 1 == argc) return invalid_input_error(fmt::format("{} needs a value", word));
      line.lists[std::string(word)].emplace_back(argv[++i]);
    } else if (valued.contains(word)) {
      if (i + 1 == argc) return invalid_input_error(fmt::format("{} needs a value", word));
      if (!line.options.emplace(std::string(word), argv[++i]).second) {
        return invalid_input_error(fmt::format("{} given twice", word));
      }
    } else {
      return invalid_input_error(fmt::format("unknown option {}", word));
    }
  }
  return line;
}

auto parse_count(std::string_view name, std::string_view text) -> result<std::uint64_t> {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return invalid_input_error(fmt::format("{} needs a number, not '{}'", name, text));
  }
  return value;
}

auto limit_option(const command_line& line, std::uint64_t otherwise) -> result<std::uint64_t> {
  const auto text = line.option("--limit");
  return text ? parse_count("--limit", *text) : otherwise;
}

// A value for one cell of a table: one line, at most `width` characters.
auto cell(std::string_view text, std::size_t width = 60) -> std::string {
  std::string line(text);
  std::ranges::replace(line, '\n', ' ');
  if (line.size() > width) line = line.substr(0, width - 3) + "...";
  return line;
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  const auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], widths[i]);
    }
    fmt::print("{}\n", line.substr(0, line.find_last_not_of(' ') + 1));
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

void print_json(const json& value) { fmt::print("{}\n", admin::json_text(value, 2)); }

template <class Item>
void print_json_array(const std::vector<Item>& items, auto to_json) {
  json out = json::array();
  for (const auto& item : items) out.push_back(to_json(item));
  print_json(out);
}

// Asks on the terminal, or takes --yes; anything else refuses.
auto confirmed(const command_line& line, std::string_view question) -> result<void> {
  if (line.flags.contains("--yes")) return ok();
  if (isatty(STDIN_FILENO) == 0) {
    return invalid_input_error(fmt::format("{}: not on a terminal, pass --yes to confirm", question));
  }
  fmt::print(stderr, "{} [y/N] ", question);
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "yes") return ok();
  return invalid_input_error("not confirmed, nothing changed");
}

auto show_runs(store& s, const command_line& line) -> result<void> {
  auto limit = limit_option(line, 10);
  if (!limit) return std::move(limit).error();
  std::vector<std::string> jobs;
  if (auto job = line.option("--job")) {
    jobs.push_back(*job);
  } else {
    auto all = s.jobs();
    if (!all) return std::move(all).error();
    jobs = std::move(*all);
  }
  std::vector<job_run> runs;
  for (const auto& job : jobs) {
    auto of_job = s.runs(job, *limit);
    if (!of_job) return std::move(of_job).error();
    runs.insert(runs.end(), of_job->begin(), of_job->end());
  }
  if (line.option("--job") && runs.empty()) {
    return not_found_error(fmt::format("no runs of job '{}'", *line.option("--job")));
  }
  if (line.flags.contains("--json")) {
    print_json_array(runs, admin::run_json);
    return ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : runs) {
    rows.push_back({run.job, std::to_string(run.id), std::string(to_string(run.state)), std::to_string(run.read),
                    std::to_string(run.written), std::to_string(run.dead_lettered), std::to_string(run.retried),
                    admin::iso_time(run.created), admin::iso_time(run.updated), run.owner, cell(run.message)});
  }
  print_table({"JOB", "RUN", "STATE", "READ", "WRITTEN", "DEAD", "RETRIED", "STARTED", "UPDATED", "OWNER", "MESSAGE"},
              rows);
  return ok();
}

// Every key with a checkpoint, with its position and version.
auto list_checkpoints(store& s, const command_line& line) -> result<void> {
  auto keys = s.checkpoint_keys();
  if (!keys) return std::move(keys).error();
  std::vector<std::pair<std::string, checkpoint>> checkpoints;
  for (auto& key : *keys) {
    auto cp = s.load_checkpoint(key);
    if (!cp) return std::move(cp).error();
    checkpoints.emplace_back(std::move(key), std::move(*cp));
  }
  if (line.flags.contains("--json")) {
    print_json_array(checkpoints, [](const std::pair<std::string, checkpoint>& c) {
      return json{{"key", c.first}, {"position", admin::shown_bytes(c.second.pos.bytes())}, {"version", c.second.version}};
    });
    return ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, cp] : checkpoints) {
    rows.push_back({key, cp.pos.empty() ? "(the beginning)" : cell(admin::shown_bytes(cp.pos.bytes())),
                    std::to_string(cp.version)});
  }
  print_table({"KEY", "POSITION", "VERSION"}, rows);
  return ok();
}

auto checkpoint_command(store& s, const command_line& line) -> result<void> {
  if (line.words.size() == 3 && line.words[2] == "list") return list_checkpoints(s, line);
  if (line.words.size() != 4 || (line.words[2] != "show" && line.words[2] != "reset")) {
    return invalid_input_error("usage: checkpoint list | checkpoint show KEY | checkpoint reset KEY [--yes]");
  }
  const auto& key = line.words[3];
  auto cp = s.load_checkpoint(key);
  if (!cp) return std::move(cp).error();
  if (cp->version == 0) return not_found_error(fmt::format("no checkpoint '{}'", key));
  if (line.words[2] == "reset") {
    const auto question = fmt::format("reset checkpoint '{}' (version {}, position {}) to the beginning?", key,
                                      cp->version, admin::shown_bytes(cp->pos.bytes()));
    if (auto yes = confirmed(line, question); !yes) return std::move(yes).error();
    // An empty position is the beginning; the new version fences off a process still running.
    auto version = s.save_checkpoint(key, position{}, cp->version);
    if (!version) return std::move(version).error();
    cp = checkpoint{position{}, *version};
  }
  if (line.flags.contains("--json")) {
    print_json({{"key", key}, {"position", admin::shown_bytes(cp->pos.bytes())}, {"version", cp->version}});
  } else {
    fmt::print("key       {}\nposition  {}\nversion   {}\n", key,
               cp->pos.empty() ? "(the beginning)" : admin::shown_bytes(cp->pos.bytes()), cp->version);
  }
  return ok();
}

// The filter of the --kind, --partition, --job, --since and --until options.
auto letter_filter(const command_line& line) -> result<dead_letter_filter> {
  return admin::parse_letter_filter([&](std::string_view name) { return line.option(fmt::format("--{}", name)); });
}

auto list_letters(store& s, const command_line& line) -> result<void> {
  auto filter = letter_filter(line);
  if (!filter) return std::move(filter).error();
  auto limit = limit_option(line, 100);
  if (!limit) return std::move(limit).error();
  auto letters = admin::find_letters(s, *filter, line.option("--text"), std::nullopt, *limit);
  if (!letters) return std::move(letters).error();
  if (line.flags.contains("--json")) {
    print_json_array(*letters, [](const stored_dead_letter& l) { return admin::letter_json(l); });
    return ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [id, l] : *letters) {
    rows.push_back({id, l.job, std::string(to_string(l.reason.kind)), std::to_string(l.partition),
                    cell(admin::shown_bytes(l.pos.bytes()), 20), std::to_string(l.attempts), admin::iso_time(l.time),
                    cell(l.reason.message), cell(admin::shown_bytes(l.payload), 40)});
  }
  print_table({"ID", "JOB", "KIND", "PARTITION", "POSITION", "ATTEMPTS", "TIME", "MESSAGE", "PAYLOAD"}, rows);
  return ok();
}

auto show_letter(store& s, const command_line& line) -> result<void> {
  if (line.words.size() != 4) return invalid_input_error("usage: dlq show ID");
  auto stored = s.letter(line.words[3]);
  if (!stored) return std::move(stored).error();
  if (line.flags.contains("--json")) {
    print_json(admin::letter_json(*stored));
    return ok();
  }
  const auto& l = stored->letter;
  fmt::print("id          {}\njob         {}\nkind        {}\nmessage     {}\nnative code {} ({})\nattempts    {}\n"
             "partition   {}\nposition    {}\ntime        {}\npayload ({} bytes):\n{}\n",
             stored->id, l.job, to_string(l.reason.kind), l.reason.message, l.reason.native_code, l.reason.backend,
             l.attempts, l.partition, admin::shown_bytes(l.pos.bytes()), admin::iso_time(l.time), l.payload.size(), admin::shown_bytes(l.payload));
  return ok();
}

auto purge_letters(store& s, const command_line& line) -> result<void> {
  if (line.option("--text")) return invalid_input_error("dlq purge: --text is not a store filter; purge by kind, partition, job or time");
  auto filter = letter_filter(line);
  if (!filter) return std::move(filter).error();
  if (auto yes = confirmed(line, "purge the dead letters that match?"); !yes) return std::move(yes).error();
  auto purged = s.purge_letters(*filter);
  if (!purged) return std::move(purged).error();
  if (line.flags.contains("--json")) {
    print_json({{"purged", *purged}});
  } else {
    fmt::print("purged {} dead letters\n", *purged);
  }
  return ok();
}

// One letter by id, or every one that matches the filters, back onto the queue `--to`.
auto replay_letters(store& s, const command_line& line) -> result<void> {
  const auto queue = line.option("--to");
  if (!queue) return invalid_input_error("dlq replay needs --to STREAM, the Redis stream the job's workers read");
  std::size_t moved = 0;
  if (line.words.size() == 4) {
    auto letter = s.letter(line.words[3]);
    if (!letter) return std::move(letter).error();
    if (auto yes = confirmed(line, fmt::format("requeue dead letter {} onto {}?", line.words[3], *queue)); !yes) {
      return std::move(yes).error();
    }
    auto done = s.requeue_letters(std::span(&*letter, 1), *queue);
    if (!done) return std::move(done).error();
    moved = *done;
  } else {
    auto filter = letter_filter(line);
    if (!filter) return std::move(filter).error();
    if (auto yes = confirmed(line, fmt::format("requeue the dead letters that match onto {}?", *queue)); !yes) {
      return std::move(yes).error();
    }
    auto done = admin::requeue_matching(s, *filter, line.option("--text"), *queue);
    if (!done) return std::move(done).error();
    moved = *done;
  }
  if (line.flags.contains("--json")) {
    print_json({{"requeued", moved}});
  } else {
    fmt::print("requeued {} dead letters onto {}\n", moved, *queue);
  }
  return ok();
}

auto dlq_command(store& s, const command_line& line) -> result<void> {
  const auto sub = line.words.size() > 2 ? std::string_view(line.words[2]) : std::string_view{};
  if (sub == "list" && line.words.size() == 3) return list_letters(s, line);
  if (sub == "show") return show_letter(s, line);
  if (sub == "purge" && line.words.size() == 3) return purge_letters(s, line);
  if (sub == "replay" && line.words.size() <= 4) return replay_letters(s, line);
  return invalid_input_error(
      "usage: dlq list [FILTERS] | dlq show ID | dlq purge [FILTERS] [--yes] | dlq replay [ID] --to STREAM [FILTERS] [--yes]");
}

auto show_queue(store& s, const command_line& line) -> result<void> {
  if (line.words.size() != 3) return invalid_input_error("usage: queue STREAM");
  auto status = s.queue(line.words[2]);
  if (!status) return std::move(status).error();
  if (line.flags.contains("--json")) {
    print_json(admin::queue_json(*status));
    return ok();
  }
  fmt::print("stream {}: length {}\n\n", status->stream, status->length);
  std::vector<std::vector<std::string>> groups;
  std::vector<std::vector<std::string>> consumers;
  for (const auto& g : status->groups) {
    groups.push_back({g.name, std::to_string(g.consumers.size()), std::to_string(g.pending),
                      g.lag ? std::to_string(*g.lag) : "?", g.last_delivered_id});
    for (const auto& c : g.consumers) {
      consumers.push_back({g.name, c.name, std::to_string(c.pending), fmt::format("{:.1f}", std::chrono::duration<double>(c.idle).count())});
    }
  }
  print_table({"GROUP", "CONSUMERS", "PENDING", "LAG", "LAST DELIVERED"}, groups);
  fmt::print("\n");
  print_table({"GROUP", "CONSUMER", "PENDING", "IDLE S"}, consumers);
  return ok();
}

auto store_names_of(const command_line& line) -> admin::store_names {
  admin::store_names names;
  if (auto table = line.option("--table")) names.table = *table;
  if (auto prefix = line.option("--prefix")) names.prefix = *prefix;
  return names;
}

// HOST:PORT, the host defaulting to 127.0.0.1 (":8081" or "8081").
auto parse_listen(const std::string& text) -> result<std::pair<std::string, std::uint16_t>> {
  const auto colon = text.rfind(':');
  const auto host = colon == std::string::npos || colon == 0 ? std::string("127.0.0.1") : text.substr(0, colon);
  const auto port_text = colon == std::string::npos ? std::string_view(text) : std::string_view(text).substr(colon + 1);
  std::uint16_t port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size()) {
    return invalid_input_error(fmt::format("--listen needs HOST:PORT, not '{}'", text));
  }
  return std::pair{host, port};
}

// The token is the file's first line; a file without one is refused, so that a console never
// serves changes behind an empty token by mistake.
auto read_token(const std::string& path) -> result<std::string> {
  std::ifstream file(path);
  std::string token;
  if (!file) return invalid_input_error(fmt::format("--token-file {}: cannot read it", path));
  std::getline(file, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return invalid_input_error(fmt::format("--token-file {}: the first line is empty", path));
  return token;
}

// The --total JOB=N options: how many records each job has in all.
auto parse_totals(const command_line& line) -> result<std::map<std::string, std::uint64_t, std::less<>>> {
  std::map<std::string, std::uint64_t, std::less<>> totals;
  const auto given = line.lists.find("--total");
  if (given == line.lists.end()) return totals;
  for (const auto& text : given->second) {
    const auto equals = text.rfind('=');
    if (equals == std::string::npos || equals == 0) {
      return invalid_input_error(fmt::format("--total needs JOB=N, not '{}'", text));
    }
    auto n = parse_count("--total", std::string_view(text).substr(equals + 1));
    if (!n) return std::move(n).error();
    totals[text.substr(0, equals)] = *n;
  }
  return totals;
}

// `serve`: the console over every --store until SIGINT or SIGTERM.
auto serve(const command_line& line) -> result<void> {
  if (line.words.size() != 1) return invalid_input_error("usage: serve --store STORE… --listen HOST:PORT --token-file F");
  const auto uris = line.lists.find("--store");
  if (uris == line.lists.end()) return invalid_input_error("serve needs --store STORE (one or more)");
  const auto token_file = line.option("--token-file");
  if (!token_file) return invalid_input_error("serve needs --token-file F: changes need its bearer token");
  auto token = read_token(*token_file);
  if (!token) return std::move(token).error();
  auto listen = parse_listen(line.option("--listen").value_or("127.0.0.1:8081"));
  if (!listen) return std::move(listen).error();
  const auto queues = line.lists.contains("--queue") ? line.lists.at("--queue") : std::vector<std::string>{};

  std::vector<admin::console_store> stores;
  for (const auto& uri : uris->second) {
    auto s = admin::open_store(uri, store_names_of(line));
    if (!s) return std::move(s).error();
    const bool redis = uri.starts_with("redis://");
    stores.push_back({admin::without_credentials(uri), std::move(*s), redis ? queues : std::vector<std::string>{}});
  }
  auto totals = parse_totals(line);
  if (!totals) return std::move(totals).error();
  admin::console_options options;
  options.total_of = [totals = std::move(*totals)](std::string_view job) -> std::optional<std::uint64_t> {
    const auto found = totals.find(job);
    if (found == totals.end()) return std::nullopt;
    return found->second;
  };
  options.token = std::move(*token);
  options.open_reads = line.flags.contains("--open-reads");
  const auto host = listen->first;
  options.on_listening = [host](std::uint16_t port) {
    fmt::print("pipeline-admin: console on http://{}:{}/\n", host, port);
    std::fflush(stdout);
  };
  admin::console web(std::move(stores), std::move(options));

  // SIGINT and SIGTERM end the console: blocked here (the console's threads inherit the
  // mask) and taken by one thread that asks it to stop.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::stop_source stop;
  std::jthread waiter([&] {
    int taken = 0;
    sigwait(&signals, &taken);
    stop.request_stop();
  });
  auto served = web.listen(listen->second, stop.get_token(), host);
  if (!stop.stop_requested()) {
    // Listening failed: wake the waiter so that it can be joined.
    pthread_kill(waiter.native_handle(), SIGTERM);
  }
  return served;
}

auto run_command(const command_line& line) -> result<void> {
  if (!line.words.empty() && line.words[0] == "serve") return serve(line);
  if (line.words.size() < 2) return invalid_input_error("a store and a command are needed");
  const auto names = store_names_of(line);
  const auto& command = line.words[1];
  if (command != "runs" && command != "checkpoint" && command != "dlq" && command != "queue") {
    return invalid_input_error(fmt::format("no command '{}'", command));
  }
  auto s = admin::open_store(line.words[0], names);
  if (!s) return std::move(s).error();
  if (command == "runs") {
    if (line.words.size() != 2) return invalid_input_error("usage: runs [--job J] [--limit N]");
    return show_runs(**s, line);
  }
  if (command == "checkpoint") return checkpoint_command(**s, line);
  if (command == "dlq") return dlq_command(**s, line);
  return show_queue(**s, line);
}

}  // namespace

auto main(int argc, char** argv) -> int {
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    fmt::print("{}", usage);
    return 0;
  }
  auto line = parse_command_line(argc, argv);
  auto done = line ? run_command(*line) : result<void>(std::move(line).error());
  if (done) return 0;
  fmt::print(stderr, "pipeline-admin: {}\n", done.error().message);
  const bool bad_request = done.error().kind == error_kind::invalid_input || done.error().kind == error_kind::not_found;
  if (bad_request && (!line || line->words.size() < 2)) fmt::print(stderr, "\n{}", usage);
  return bad_request ? 2 : 1;
}
