// pipeline-admin: an operator's look at a pipeline's stores (docs/console.md).
//
//     pipeline-admin STORE COMMAND [ARGUMENTS] [OPTIONS]

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pipeline/detail/time_text.hpp>
#include <pipeline/error.hpp>

#include "store.hpp"

namespace {

using namespace pipeline;
using admin::store;
using json = nlohmann::json;

constexpr std::string_view usage = R"(usage: pipeline-admin STORE COMMAND [ARGUMENTS] [OPTIONS]

STORE: sqlite:PATH (or a path ending in .db), mysql://user:pass@host:port/db,
       postgresql://user:pass@host:port/db, redis://host:port/db

commands:
  runs [--job J] [--limit N]           jobs and their newest runs (N per job, 10)
  checkpoint show KEY                  a checkpoint's position and version
  checkpoint reset KEY [--yes]         start KEY over from the beginning
  dlq list [FILTERS] [--text S] [--limit N]   dead letters, oldest first (N: 100)
  dlq show ID                          one dead letter with its whole payload
  dlq purge [FILTERS] [--yes]          remove the dead letters that match
  queue STREAM                         a Redis stream's length, groups and consumers

filters: --kind K, --partition P, --job J, --since TIME, --until TIME (ISO-8601 UTC,
         2026-05-01 or 2026-05-01T12:00:00Z; since inclusive, until exclusive)
options: --json, --table T (SQL stores), --prefix P (Redis, "pipeline"), --yes
exit status: 0 done, 1 the store failed, 2 a bad command, URI, name or id, or nothing there
)";

// The command line: its words and its options, each option at most once.
struct command_line {
  std::vector<std::string> words;
  std::map<std::string, std::string, std::less<>> options;
  std::set<std::string, std::less<>> flags;

  [[nodiscard]] auto option(std::string_view name) const -> std::optional<std::string> {
    const auto found = options.find(name);
    if (found == options.end()) return std::nullopt;
    return found->second;
  }
};

auto parse_command_line(int argc, char** argv) -> result<command_line> {
  static const std::set<std::string_view> valued{"--table", "--prefix", "--job",  "--limit", "--kind",
                                                 "--partition", "--since", "--until", "--text"};
  static const std::set<std::string_view> flags{"--json", "--yes"};
  command_line line;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (!word.starts_with("--")) {
      line.words.emplace_back(word);
    } else if (flags.contains(word)) {
      line.flags.emplace(word);
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

// ISO-8601 UTC; a date alone is its midnight.
auto parse_time(std::string_view name, const std::string& text) -> result<std::chrono::system_clock::time_point> {
  const auto full = text.size() == 10 ? text + "T00:00:00Z" : text;
  const auto t = pipeline::detail::parse_iso_time(full);
  if (!t) return invalid_input_error(fmt::format("{} needs a UTC time such as 2026-05-01T12:00:00Z, not '{}'", name, text));
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(*t);
}

auto iso(std::chrono::system_clock::time_point t) -> std::string { return pipeline::detail::format_iso_time(t); }

// Bytes as text when they are printable ASCII, else as hex ("0x…"): positions and payloads
// are bytes.
auto shown_bytes(const std::string& bytes) -> std::string {
  const bool printable = std::ranges::all_of(bytes, [](char c) { return c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f); });
  if (printable) return bytes;
  std::string hex = "0x";
  for (const char c : bytes) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return hex;
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

void print_json(const json& value) {
  // Payloads are bytes: invalid UTF-8 is shown with U+FFFD rather than failing the output.
  fmt::print("{}\n", value.dump(2, ' ', false, json::error_handler_t::replace));
}

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

auto run_json(const job_run& run) -> json {
  return {{"job", run.job},
          {"id", run.id},
          {"state", to_string(run.state)},
          {"owner", run.owner},
          {"read", run.read},
          {"written", run.written},
          {"dead_lettered", run.dead_lettered},
          {"retried", run.retried},
          {"created", iso(run.created)},
          {"updated", iso(run.updated)},
          {"lease_until", iso(run.lease_until)},
          {"message", run.message}};
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
    print_json_array(runs, run_json);
    return ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : runs) {
    rows.push_back({run.job, std::to_string(run.id), std::string(to_string(run.state)), std::to_string(run.read),
                    std::to_string(run.written), std::to_string(run.dead_lettered), std::to_string(run.retried),
                    iso(run.created), iso(run.updated), run.owner, cell(run.message)});
  }
  print_table({"JOB", "RUN", "STATE", "READ", "WRITTEN", "DEAD", "RETRIED", "STARTED", "UPDATED", "OWNER", "MESSAGE"},
              rows);
  return ok();
}

auto checkpoint_command(store& s, const command_line& line) -> result<void> {
  if (line.words.size() != 4 || (line.words[2] != "show" && line.words[2] != "reset")) {
    return invalid_input_error("usage: checkpoint show KEY | checkpoint reset KEY [--yes]");
  }
  const auto& key = line.words[3];
  auto cp = s.load_checkpoint(key);
  if (!cp) return std::move(cp).error();
  if (cp->version == 0) return not_found_error(fmt::format("no checkpoint '{}'", key));
  if (line.words[2] == "reset") {
    const auto question = fmt::format("reset checkpoint '{}' (version {}, position {}) to the beginning?", key,
                                      cp->version, shown_bytes(cp->pos.bytes()));
    if (auto yes = confirmed(line, question); !yes) return std::move(yes).error();
    // An empty position is the beginning; the new version fences off a process still running.
    auto version = s.save_checkpoint(key, position{}, cp->version);
    if (!version) return std::move(version).error();
    cp = checkpoint{position{}, *version};
  }
  if (line.flags.contains("--json")) {
    print_json({{"key", key}, {"position", shown_bytes(cp->pos.bytes())}, {"version", cp->version}});
  } else {
    fmt::print("key       {}\nposition  {}\nversion   {}\n", key,
               cp->pos.empty() ? "(the beginning)" : shown_bytes(cp->pos.bytes()), cp->version);
  }
  return ok();
}

auto letter_filter(const command_line& line) -> result<dead_letter_filter> {
  dead_letter_filter filter;
  if (auto kind = line.option("--kind")) {
    filter.kind = parse_error_kind(*kind);
    if (!filter.kind) return invalid_input_error(fmt::format("--kind: no error kind '{}'", *kind));
  }
  if (auto partition = line.option("--partition")) {
    auto n = parse_count("--partition", *partition);
    if (!n) return std::move(n).error();
    if (*n > UINT32_MAX) return invalid_input_error(fmt::format("--partition {} is too large", *n));
    filter.partition = static_cast<std::uint32_t>(*n);
  }
  for (auto [name, member] : {std::pair{"--since", &dead_letter_filter::from}, std::pair{"--until", &dead_letter_filter::to}}) {
    if (auto text = line.option(name)) {
      auto t = parse_time(name, *text);
      if (!t) return std::move(t).error();
      filter.*member = *t;
    }
  }
  filter.job = line.option("--job");
  return filter;
}

auto letter_json(const stored_dead_letter& stored) -> json {
  const auto& l = stored.letter;
  return {{"id", stored.id},
          {"job", l.job},
          {"kind", to_string(l.reason.kind)},
          {"message", l.reason.message},
          {"native_code", l.reason.native_code},
          {"backend", l.reason.backend},
          {"attempts", l.attempts},
          {"partition", l.partition},
          {"position", shown_bytes(l.pos.bytes())},
          {"time", iso(l.time)},
          {"payload", l.payload}};
}

auto list_letters(store& s, const command_line& line) -> result<void> {
  auto filter = letter_filter(line);
  if (!filter) return std::move(filter).error();
  auto limit = limit_option(line, 100);
  if (!limit) return std::move(limit).error();
  const auto text = line.option("--text");
  // --text is the tool's own filter (the stores filter by kind, partition, job and time):
  // read on, a page at a time, until `limit` letters match.
  std::vector<stored_dead_letter> letters;
  std::optional<std::string> after;
  while (letters.size() < *limit) {
    auto page = s.read_letters(*filter, after, 500);
    if (!page) return std::move(page).error();
    if (page->empty()) break;
    after = page->back().id;
    for (auto& stored : *page) {
      const auto& l = stored.letter;
      if (text && l.payload.find(*text) == std::string::npos && l.reason.message.find(*text) == std::string::npos) {
        continue;
      }
      if (letters.size() < *limit) letters.push_back(std::move(stored));
    }
  }
  if (line.flags.contains("--json")) {
    print_json_array(letters, letter_json);
    return ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [id, l] : letters) {
    rows.push_back({id, l.job, std::string(to_string(l.reason.kind)), std::to_string(l.partition),
                    cell(shown_bytes(l.pos.bytes()), 20), std::to_string(l.attempts), iso(l.time),
                    cell(l.reason.message), cell(shown_bytes(l.payload), 40)});
  }
  print_table({"ID", "JOB", "KIND", "PARTITION", "POSITION", "ATTEMPTS", "TIME", "MESSAGE", "PAYLOAD"}, rows);
  return ok();
}

auto show_letter(store& s, const command_line& line) -> result<void> {
  if (line.words.size() != 4) return invalid_input_error("usage: dlq show ID");
  auto stored = s.letter(line.words[3]);
  if (!stored) return std::move(stored).error();
  if (line.flags.contains("--json")) {
    print_json(letter_json(*stored));
    return ok();
  }
  const auto& l = stored->letter;
  fmt::print("id          {}\njob         {}\nkind        {}\nmessage     {}\nnative code {} ({})\nattempts    {}\n"
             "partition   {}\nposition    {}\ntime        {}\npayload ({} bytes):\n{}\n",
             stored->id, l.job, to_string(l.reason.kind), l.reason.message, l.reason.native_code, l.reason.backend,
             l.attempts, l.partition, shown_bytes(l.pos.bytes()), iso(l.time), l.payload.size(), shown_bytes(l.payload));
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

auto dlq_command(store& s, const command_line& line) -> result<void> {
  const auto sub = line.words.size() > 2 ? std::string_view(line.words[2]) : std::string_view{};
  if (sub == "list" && line.words.size() == 3) return list_letters(s, line);
  if (sub == "show") return show_letter(s, line);
  if (sub == "purge" && line.words.size() == 3) return purge_letters(s, line);
  return invalid_input_error("usage: dlq list [FILTERS] | dlq show ID | dlq purge [FILTERS] [--yes]");
}

auto show_queue(store& s, const command_line& line) -> result<void> {
  if (line.words.size() != 3) return invalid_input_error("usage: queue STREAM");
  auto status = s.queue(line.words[2]);
  if (!status) return std::move(status).error();
  if (line.flags.contains("--json")) {
    json groups = json::array();
    for (const auto& g : status->groups) {
      json consumers = json::array();
      for (const auto& c : g.consumers) {
        consumers.push_back({{"name", c.name}, {"pending", c.pending}, {"idle_ms", c.idle.count()}});
      }
      groups.push_back({{"name", g.name},
                        {"pending", g.pending},
                        {"lag", g.lag ? json(*g.lag) : json(nullptr)},
                        {"last_delivered_id", g.last_delivered_id},
                        {"consumers", consumers}});
    }
    print_json({{"stream", status->stream}, {"length", status->length}, {"groups", groups}});
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

auto run_command(const command_line& line) -> result<void> {
  if (line.words.size() < 2) return invalid_input_error("a store and a command are needed");
  admin::store_names names;
  if (auto table = line.option("--table")) names.table = *table;
  if (auto prefix = line.option("--prefix")) names.prefix = *prefix;
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
