#include "sink_ledger.hpp"

#include <charconv>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>

#include "text_codecs.hpp"

namespace pipeline::file::detail {
namespace {

// Between rewrites the file may hold this many lines beyond its entries and one `size` line
// (`size` lines from flushes, entries forgotten by nobody) before it is compacted.
constexpr std::uint64_t slack_lines = 1024;

auto with_checksum(std::string body) -> std::string {
  const auto sum = pipeline::detail::fnv1a_64(body);
  fmt::format_to(std::back_inserter(body), " {:016x}\n", sum);
  return body;
}

auto size_line(std::uint64_t data_size) -> std::string { return with_checksum(fmt::format("size {}", data_size)); }

auto entry_line(const committed_batch& e, std::uint64_t data_size) -> std::string {
  return with_checksum(fmt::format("batch {} {} {} {} {} {} {} {}", data_size, e.partition, e.run, e.sequence, e.slice,
                                   base64_encode(e.job), base64_encode(e.start.bytes()),
                                   base64_encode(e.end.bytes())));
}

// `text` split at every space (empty fields kept).
auto fields_of(std::string_view text) -> std::vector<std::string_view> {
  std::vector<std::string_view> out;
  for (;;) {
    const auto space = text.find(' ');
    out.push_back(text.substr(0, space));
    if (space == std::string_view::npos) return out;
    text.remove_prefix(space + 1);
  }
}

template <class N>
auto number(std::string_view text) -> std::optional<N> {
  N n{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

struct parsed_line {
  std::uint64_t data_size = 0;
  std::optional<committed_batch> entry;  // nullopt for a `size` line
};

// One line without its '\n'; nullopt when it is not a valid ledger line.
auto parse(std::string_view line) -> std::optional<parsed_line> {
  const auto last_space = line.rfind(' ');
  if (last_space == std::string_view::npos) return std::nullopt;
  const auto body = line.substr(0, last_space);
  const auto sum = line.substr(last_space + 1);
  if (sum != fmt::format("{:016x}", pipeline::detail::fnv1a_64(body))) return std::nullopt;
  const auto f = fields_of(body);
  parsed_line out;
  if (f.size() == 2 && f[0] == "size") {
    const auto size = number<std::uint64_t>(f[1]);
    if (!size) return std::nullopt;
    out.data_size = *size;
    return out;
  }
  if (f.size() != 9 || f[0] != "batch") return std::nullopt;
  const auto size = number<std::uint64_t>(f[1]);
  const auto partition = number<std::uint32_t>(f[2]);
  const auto run = number<std::uint64_t>(f[3]);
  const auto sequence = number<std::uint64_t>(f[4]);
  const auto slice = number<std::uint64_t>(f[5]);
  auto job = base64_decode(f[6]);
  auto start = base64_decode(f[7]);
  auto end = base64_decode(f[8]);
  if (!size || !partition || !run || !sequence || !slice || !job || !start || !end) return std::nullopt;
  out.data_size = *size;
  out.entry = committed_batch{std::move(*job), *partition, *run, *sequence, *slice, position{std::move(*start)},
                              position{std::move(*end)}};
  return out;
}

auto corrupt(const std::filesystem::path& path, std::string_view what) -> error {
  return permanent_error(fmt::format("jsonl_sink: batch ledger '{}' is corrupt ({}); restore it, or delete it and "
                                     "the data file to start over",
                                     path.string(), what));
}

}  // namespace

auto sink_ledger::open(std::filesystem::path path) -> result<sink_ledger> {
  auto content = read_whole_file(path);
  if (!content) return std::move(content).error();
  if (!*content) return sink_ledger{std::move(path), std::nullopt, {}, std::nullopt, 0};

  const std::string_view text = **content;
  entry_map entries;
  std::optional<std::uint64_t> size;
  std::uint64_t valid_bytes = 0;
  std::uint64_t lines = 0;
  while (valid_bytes < text.size()) {
    const auto newline = text.find('\n', valid_bytes);
    const auto line = text.substr(valid_bytes, newline == std::string_view::npos ? newline : newline - valid_bytes);
    auto parsed = newline == std::string_view::npos ? std::nullopt : parse(line);
    if (!parsed) {
      // Torn by a crash while it was appended: it is the last line. Anything else is damage.
      if (newline != std::string_view::npos && newline + 1 < text.size()) {
        return corrupt(path, fmt::format("line {} is not a ledger line", lines + 1));
      }
      break;
    }
    if (parsed->entry) {
      auto& e = *parsed->entry;
      entries.insert_or_assign(identity{e.job, e.run, e.sequence, e.slice}, std::move(e));
    }
    size = parsed->data_size;
    valid_bytes = newline + 1;
    ++lines;
  }
  if (!size) return corrupt(path, "no valid line");
  // Cuts the torn line off (and syncs), so that appends start on a line of their own.
  auto file = append_file::open(path, valid_bytes);
  if (!file) return std::move(file).error();
  return sink_ledger{std::move(path), std::move(*file), std::move(entries), size, lines};
}

auto sink_ledger::start(std::uint64_t data_size) -> result<void> {
  auto file = append_file::replace(path_, size_line(data_size));
  if (!file) return std::move(file).error();
  file_ = std::move(*file);
  size_ = data_size;
  lines_ = 1;
  return ok();
}

auto sink_ledger::holds(const committed_batch& entry) const -> result<bool> {
  const auto found = entries_.find(identity{entry.job, entry.run, entry.sequence, entry.slice});
  if (found == entries_.end()) return false;
  if (found->second.start != entry.start || found->second.end != entry.end) {
    return conflict_error(fmt::format(
        "jsonl_sink: batch {} (slice {}) of run {} of job '{}' is in the ledger '{}' with other positions: another "
        "runner of this job is writing",
        entry.sequence, entry.slice, entry.run, entry.job, path_.string()));
  }
  return true;
}

auto sink_ledger::line(const committed_batch* entry, std::uint64_t data_size) -> std::string {
  return entry != nullptr ? entry_line(*entry, data_size) : size_line(data_size);
}

auto sink_ledger::write(std::string_view lines) -> result<void> {
  if (!file_) return internal_error("jsonl_sink: the batch ledger was not started");
  return file_->append(lines, append_file::durability::synced);
}

void sink_ledger::adopt(const committed_batch* entry, std::uint64_t data_size) {
  if (entry != nullptr) {
    entries_.insert_or_assign(identity{entry->job, entry->run, entry->sequence, entry->slice}, *entry);
  }
  size_ = data_size;
  ++lines_;
}

void sink_ledger::compact_if_due() {
  if (lines_ > 2 * entries_.size() + slack_lines) (void)rewrite(entries_);
}

auto sink_ledger::entries(std::string_view job) const -> std::vector<committed_batch> {
  std::vector<committed_batch> out;
  for (auto it = entries_.lower_bound(identity{std::string(job), 0, 0, 0});
       it != entries_.end() && std::get<0>(it->first) == job; ++it) {
    out.push_back(it->second);
  }
  return out;
}

auto sink_ledger::forget(std::string_view job, std::uint64_t run, std::uint64_t sequence) -> result<void> {
  entry_map kept;
  bool any = false;
  for (const auto& [id, e] : entries_) {
    const bool below = e.job == job && (e.run < run || (e.run == run && e.sequence <= sequence));
    any = any || below;
    if (!below) kept.emplace(id, e);
  }
  if (!any) return ok();
  return rewrite(std::move(kept));
}

auto sink_ledger::rewrite(entry_map entries) -> result<void> {
  if (!size_) return internal_error("jsonl_sink: the batch ledger was not started");
  std::string content;
  for (const auto& [id, e] : entries) content += entry_line(e, *size_);
  content += size_line(*size_);
  auto file = append_file::replace(path_, content);
  if (!file) return std::move(file).error();
  file_ = std::move(*file);
  entries_ = std::move(entries);
  lines_ = entries_.size() + 1;
  return ok();
}

}  // namespace pipeline::file::detail
