#include <pipeline/file/job_log.hpp>

#include <algorithm>
#include <charconv>
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pipeline/detail/job_run_fields.hpp>
#include <pipeline/detail/time_text.hpp>

#include "posix_io.hpp"
#include "store_files.hpp"

namespace pipeline::file {
namespace {

using json = nlohmann::ordered_json;
constexpr int format_version = 1;
constexpr std::string_view run_extension = ".run";
constexpr std::size_t id_digits = 20;  // every uint64, so names sort as ids do

auto corrupt(const std::filesystem::path& path, std::string_view what) -> error {
  return permanent_error(fmt::format("job log file '{}' is corrupt ({}); restore or delete it", path.string(), what));
}

auto run_file_name(std::uint64_t id) -> std::string { return fmt::format("{:0{}}{}", id, id_digits, run_extension); }

// The id a run file's name holds, or nullopt for any other file (temporaries among them).
auto id_of(const std::filesystem::path& file) -> std::optional<std::uint64_t> {
  const std::string name = file.filename().string();
  if (name.size() != id_digits + run_extension.size() || !name.ends_with(run_extension)) return std::nullopt;
  std::uint64_t id = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + id_digits, id);
  if (ec != std::errc{} || end != name.data() + id_digits) return std::nullopt;
  return id;
}

auto encode(const job_run& run) -> std::string {
  json doc = {{"format", format_version}};
  pipeline::detail::for_each_job_run_field(run, [&](std::string_view name, const auto& value) { doc[name] = value; });
  // Bytes that are not UTF-8 (a message quoting bad input) become U+FFFD instead of failing.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + '\n';
}

auto decode(const std::string& content, const std::filesystem::path& path) -> result<job_run> {
  const auto doc = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return corrupt(path, "not a JSON object");
  const auto member = [&](std::string_view name) -> const json* {
    const auto it = doc.find(name);
    return it == doc.end() ? nullptr : &*it;
  };
  if (const auto* f = member("format"); f == nullptr || *f != format_version) return corrupt(path, "no \"format\": 1");
  job_run run;
  for (auto [field, name] : {std::pair{&job_run::id, "id"}, std::pair{&job_run::read, "read"},
                             std::pair{&job_run::written, "written"},
                             std::pair{&job_run::dead_lettered, "dead_lettered"},
                             std::pair{&job_run::retried, "retried"}}) {
    const auto* v = member(name);
    if (v == nullptr || !v->is_number_unsigned()) return corrupt(path, fmt::format("no count \"{}\"", name));
    run.*field = v->get<std::uint64_t>();
  }
  for (auto [field, name] : {std::pair{&job_run::job, "job"}, std::pair{&job_run::owner, "owner"},
                             std::pair{&job_run::message, "message"}}) {
    const auto* v = member(name);
    if (v == nullptr || !v->is_string()) return corrupt(path, fmt::format("no text \"{}\"", name));
    run.*field = v->get<std::string>();
  }
  const auto* state = member("state");
  if (state == nullptr || !state->is_string()) return corrupt(path, "no run state \"state\"");
  auto parsed_state = parse_run_state(state->get<std::string>());
  if (!parsed_state) return corrupt(path, parsed_state.error().message);
  run.state = *parsed_state;
  for (auto [field, name] : {std::pair{&job_run::created, "created"}, std::pair{&job_run::updated, "updated"},
                             std::pair{&job_run::lease_until, "lease_until"}}) {
    const auto* v = member(name);
    const auto t = v != nullptr && v->is_string() ? pipeline::detail::parse_iso_time(v->get<std::string>())
                                                  : std::nullopt;
    if (!t) return corrupt(path, fmt::format("no ISO-8601 time \"{}\"", name));
    run.*field = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*t);
  }
  return run;
}

// The directory of `job`'s runs, under `directory`.
auto job_directory(const std::filesystem::path& directory, std::string_view job) -> result<std::filesystem::path> {
  if (job.empty()) return invalid_input_error("job name is empty");
  auto name = detail::escape_file_name(job, "job name");
  if (!name) return std::move(name).error();
  return directory / *name;
}

// Takes the next id from <directory>/next_id; the caller holds the store's lock.
auto take_id(const std::filesystem::path& directory) -> result<std::uint64_t> {
  const auto path = directory / "next_id";
  auto content = detail::read_whole_file(path);
  if (!content) return std::move(content).error();
  std::uint64_t id = 1;
  if (*content) {
    const std::string& text = **content;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || id == 0) return corrupt(path, "not a positive number");
  }
  if (auto saved = detail::replace_file(path, std::to_string(id + 1)); !saved) return std::move(saved).error();
  return id;
}

}  // namespace

job_log::job_log(std::filesystem::path directory) : directory_(std::move(directory)) {
  if (directory_.empty()) throw std::invalid_argument("job_log: directory is empty");
}

auto job_log::create(const job_run& run) -> result<std::uint64_t> {
  auto job_dir = job_directory(directory_, run.job);
  if (!job_dir) return std::move(job_dir).error();
  if (auto made = detail::make_directories(*job_dir); !made) return std::move(made).error();
  auto lock = detail::lock_exclusively(directory_ / "job_log.lock");
  if (!lock) return std::move(lock).error();
  auto id = take_id(directory_);
  if (!id) return id;
  job_run stored = run;
  stored.id = *id;
  if (auto written = detail::replace_file(*job_dir / run_file_name(*id), encode(stored)); !written) {
    return std::move(written).error();
  }
  return id;
}

auto job_log::update(const job_run& run) -> result<void> {
  auto job_dir = job_directory(directory_, run.job);
  if (!job_dir) return std::move(job_dir).error();
  const auto path = *job_dir / run_file_name(run.id);
  // Under the lock, so that two updates never share the temporary file.
  auto lock = detail::lock_exclusively(directory_ / "job_log.lock");
  if (!lock) {
    // No directory yet: nothing was ever created, so the run is unknown.
    if (lock.error().native_code == ENOENT) return not_found_error(fmt::format("job run {} of '{}'", run.id, run.job));
    return std::move(lock).error();
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return detail::errno_error(ec.value(), fmt::format("look for '{}'", path.string()));
    return not_found_error(fmt::format("job run {} of '{}' is not in {}", run.id, run.job, directory_.string()));
  }
  return detail::replace_file(path, encode(run));
}

auto job_log::runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> {
  auto job_dir = job_directory(directory_, job);
  if (!job_dir) return std::move(job_dir).error();
  const auto& dir = *job_dir;
  std::vector<std::uint64_t> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec)) {
    if (auto id = id_of(it->path())) ids.push_back(*id);
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return detail::errno_error(ec.value(), fmt::format("list '{}'", dir.string()));
  }
  const auto keep = std::min(limit, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(keep), ids.end(), std::greater<>{});
  std::vector<job_run> out;
  out.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i) {
    const auto path = dir / run_file_name(ids[i]);
    auto content = detail::read_whole_file(path);
    if (!content) return std::move(content).error();
    if (!*content) continue;  // deleted since the listing
    auto run = decode(**content, path);
    if (!run) return std::move(run).error();
    out.push_back(std::move(*run));
  }
  return out;
}

auto job_log::jobs() -> result<std::vector<std::string>> {
  return detail::escaped_names(directory_, detail::entry_type::directory, "");
}

}  // namespace pipeline::file
