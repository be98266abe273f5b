#include <pipeline/file/dead_letter_file.hpp>

#include <charconv>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>
#include <pipeline/file/dead_letter_file_source.hpp>

#include "dead_letter_json.hpp"
#include "posix_io.hpp"
#include "store_files.hpp"

namespace pipeline::file {

using identity = std::tuple<std::uint32_t, std::string, std::string>;  // partition, position, fingerprint

namespace {

// Lines of `content`, each without its '\n'; a last line without one (torn) counts too.
auto split_lines(std::string_view content) -> std::vector<std::string_view> {
  std::vector<std::string_view> lines;
  while (!content.empty()) {
    const auto end = content.find('\n');
    lines.push_back(content.substr(0, end));
    if (end == std::string_view::npos) break;
    content.remove_prefix(end + 1);
  }
  return lines;
}

auto parse_line_id(std::string_view id, const std::filesystem::path& path) -> result<std::uint64_t> {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc{} || end != id.data() + id.size() || n == 0) {
    return invalid_input_error(fmt::format("'{}' is not a line number of dead letter file {}", id, path.string()));
  }
  return n;
}

// The file `path_`, its sidecar and its lock file.
class file_dead_letters final : public pipeline::detail::dead_letter_backend {
 public:
  explicit file_dead_letters(std::filesystem::path path) : path_(std::move(path)) {
    if (path_.empty()) throw std::invalid_argument("dead_letter_file: path is empty");
  }

  auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    const auto fingerprints = pipeline::detail::dead_letter_fingerprints(letters);
    std::scoped_lock lock{mutex_};
    auto held = lock_file();
    if (!held) return std::move(held).error();
    if (file_) {
      auto replaced = file_->replaced();
      if (!replaced) return std::move(replaced).error();
      if (*replaced) {  // rewritten by another process: what it holds is learnt again
        file_.reset();
        stored_.clear();
      }
    }
    if (!file_) {
      auto opened = detail::append_file::open(path_, std::nullopt);
      if (!opened) return std::move(opened).error();
      if (auto known = read_identities(stop); !known) {
        stored_.clear();
        return known;
      }
      file_.emplace(std::move(*opened));
    }
    std::string lines;
    std::vector<identity> added;
    for (std::size_t i = 0; i < letters.size(); ++i) {
      identity id{letters[i].partition, letters[i].pos.bytes(), fingerprints[i]};
      if (stored_.contains(id)) continue;
      detail::append_dead_letter_json(letters[i], lines);
      added.push_back(std::move(id));
    }
    if (added.empty()) return ok();
    if (auto appended = file_->append(lines, detail::append_file::durability::synced); !appended) return appended;
    stored_.insert(std::make_move_iterator(added.begin()), std::make_move_iterator(added.end()));
    return ok();
  }

  auto read(const dead_letter_filter& filter, const std::optional<std::string>& after_id, std::size_t limit,
            std::stop_token stop) -> result<std::vector<stored_dead_letter>> override {
    if (stop.stop_requested()) return stopped_error();
    std::uint64_t after = 0;
    if (after_id) {
      auto parsed = parse_line_id(*after_id, path_);
      if (!parsed) return std::move(parsed).error();
      after = *parsed;
    }
    std::scoped_lock lock{mutex_};
    auto s = load();
    if (!s) return std::move(s).error();
    std::vector<stored_dead_letter> out;
    for (std::uint64_t n = after + 1; n <= s->lines.size() && out.size() < limit; ++n) {
      if (s->resolved.contains(n)) continue;
      auto letter = detail::parse_dead_letter_json(s->lines[n - 1]);
      if (!letter || !filter.matches(*letter)) continue;  // a line that is no entry is never replayed
      out.push_back({std::to_string(n), std::move(*letter)});
    }
    return out;
  }

  auto resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    std::string lines;
    for (const auto& id : ids) {
      auto parsed = parse_line_id(id, path_);
      if (!parsed) return std::move(parsed).error();
      lines += fmt::format("{}\n", *parsed);
    }
    if (lines.empty()) return ok();
    std::scoped_lock lock{mutex_};
    auto held = lock_file();
    if (!held) return std::move(held).error();
    auto sidecar = detail::append_file::open(resolved_path(), std::nullopt);
    if (!sidecar) return std::move(sidecar).error();
    return sidecar->append(lines, detail::append_file::durability::synced);
  }

  auto record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (failures.empty()) return ok();
    std::scoped_lock lock{mutex_};
    auto held = lock_file();
    if (!held) return std::move(held).error();
    auto s = load();
    if (!s) return std::move(s).error();
    std::vector<std::string> lines(s->lines.begin(), s->lines.end());
    for (const auto& f : failures) {
      auto n = parse_line_id(f.id, path_);
      if (!n) return std::move(n).error();
      if (*n > lines.size()) continue;  // unknown: nothing to record
      auto letter = detail::parse_dead_letter_json(lines[*n - 1]);
      if (!letter) continue;
      letter->attempts += 1;
      letter->reason = f.reason;
      std::string line;
      detail::append_dead_letter_json(*letter, line);
      line.pop_back();  // its '\n'
      lines[*n - 1] = std::move(line);
    }
    // Same lines, same numbers: the ids a replay holds stay valid.
    return rewrite(lines);
  }

  auto purge(const dead_letter_filter& filter, std::stop_token stop) -> result<std::size_t> override {
    if (stop.stop_requested()) return stopped_error();
    std::scoped_lock lock{mutex_};
    auto held = lock_file();
    if (!held) return std::move(held).error();
    auto s = load();
    if (!s) return std::move(s).error();
    std::vector<std::string> kept;
    std::size_t removed = 0;
    for (std::uint64_t n = 1; n <= s->lines.size(); ++n) {
      const auto line = s->lines[n - 1];
      auto letter = detail::parse_dead_letter_json(line);
      if (letter && filter.matches(*letter)) {
        ++removed;
        continue;
      }
      if (s->resolved.contains(n)) continue;  // compacted: resolved already
      kept.emplace_back(line);
    }
    if (auto rewritten = rewrite(kept); !rewritten) return std::move(rewritten).error();
    // The lines are numbered anew, so the resolved ones (all dropped above) are forgotten.
    if (auto cleared = detail::replace_file(resolved_path(), ""); !cleared) return std::move(cleared).error();
    return removed;
  }

 private:
  [[nodiscard]] auto resolved_path() const -> std::filesystem::path {
    auto p = path_;
    p += ".resolved";
    return p;
  }

  // Every change holds `<path>.lock` (flock), so that a purge or record_failure in another
  // process (pipeline-admin) never renames a new file over one a write is appending to: the
  // write, under the lock, finds the file replaced and reopens it.
  [[nodiscard]] auto lock_file() const -> result<detail::unique_fd> {
    auto p = path_;
    p += ".lock";
    return detail::lock_exclusively(p);
  }

  // The file's lines and the line numbers resolved, as they are now (read on every call, so
  // that it needs no cache to keep in step with appends).
  struct snapshot {
    std::string content;
    std::vector<std::string_view> lines;
    std::set<std::uint64_t> resolved;
  };
  auto load() const -> result<snapshot> {
    snapshot s;
    auto content = detail::read_whole_file(path_);
    if (!content) return std::move(content).error();
    s.content = std::move(*content).value_or(std::string{});
    s.lines = split_lines(s.content);
    auto resolved = detail::read_whole_file(resolved_path());
    if (!resolved) return std::move(resolved).error();
    if (*resolved) {
      for (auto line : split_lines(**resolved)) {
        if (auto n = parse_line_id(line, path_)) s.resolved.insert(*n);  // a torn last id is skipped
      }
    }
    return s;
  }

  // Replaces the file with `lines` (each gets its '\n') atomically; the next write reopens it
  // and learns its identities again.
  auto rewrite(const std::vector<std::string>& lines) -> result<void> {
    std::string content;
    for (const auto& l : lines) {
      content += l;
      content += '\n';
    }
    if (auto replaced = detail::replace_file(path_, content); !replaced) return replaced;
    file_.reset();
    stored_.clear();
    return ok();
  }

  // The identities of the entries already in the file, counted as if written in one call
  // (a store that only ever added new identities holds, per partition, position and payload,
  // repeats 0, 1, … with none missing). Lines that are not entries are skipped.
  auto read_identities(const std::stop_token& stop) -> result<void> {
    dead_letter_file_source entries{{.path = path_}};
    pipeline::detail::dead_letter_fingerprinter fingerprints;
    for (;;) {
      auto next = entries.next_batch(stop);
      if (!next) return std::move(next).error();
      if (!*next) return ok();
      for (const auto& l : (*next)->records) stored_.emplace(l.partition, l.pos.bytes(), fingerprints.next(l));
    }
  }

  std::filesystem::path path_;
  std::mutex mutex_;
  std::optional<detail::append_file> file_;  // opened by the first write
  std::set<identity> stored_;                // of every entry in the file
};

}  // namespace

dead_letter_file::dead_letter_file(std::filesystem::path path)
    : basic_dead_letter_store(std::make_shared<file_dead_letters>(std::move(path))) {}

}  // namespace pipeline::file
