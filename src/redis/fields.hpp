#pragma once
// Small helpers shared by the stores in src/redis/: numbers to and from reply strings, and
// reading a flat field/value array (HGETALL, stream entries) by name.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <pipeline/job_run.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/redis/detail/slot.hpp>

namespace pipeline::redis::detail {

template <class Int>
[[nodiscard]] auto to_int(std::string_view s) -> std::optional<Int> {
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

[[nodiscard]] inline auto time_text(std::chrono::system_clock::time_point t) -> std::string {
  return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

[[nodiscard]] inline auto time_of(std::string_view s) -> std::optional<std::chrono::system_clock::time_point> {
  auto ns = to_int<std::int64_t>(s);
  if (!ns) return std::nullopt;
  return std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds{*ns})};
}

/// The value of `name` in a flat [field, value, field, value…] array, or nullptr.
[[nodiscard]] inline auto field(const std::vector<reply>& flat, std::string_view name) -> const std::string* {
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
    if (flat[i].str == name) return &flat[i + 1].str;
  }
  return nullptr;
}

/// "<host>:<pid>:<n>", a new n each call: a name no other process or call of this one has (a
/// consumer's, a producer's, a job-log create's).
[[nodiscard]] inline auto unique_name() -> std::string {
  static std::atomic<unsigned long long> n{0};
  return fmt::format("{}:{}", lease_options::default_owner(), n++);
}

/// A key beside `stream` ("<stream>:<suffix>", the stream in braces when it has no hash tag):
/// in the stream's cluster slot, so that one script can use both. Throws
/// std::invalid_argument, naming `who`, when no key can share the slot (a name like "a{}b").
[[nodiscard]] inline auto companion_key(const std::string& stream, std::string_view suffix, std::string_view who)
    -> std::string {
  auto key = hash_tag(stream) != stream ? fmt::format("{}:{}", stream, suffix) : fmt::format("{{{}}}:{}", stream, suffix);
  if (key_slot(key) != key_slot(stream)) {
    throw std::invalid_argument(fmt::format(
        "{}: no key beside stream '{}' shares its slot; name it with a hash tag, like '{{orders}}:dead'", who, stream));
  }
  return key;
}

/// The names after `stem` of the keys `<stem><name>` of `type` (SCAN MATCH … TYPE …), sorted,
/// each once. In a Redis Cluster SCAN reaches only the node the client talks to.
[[nodiscard]] inline auto scan_names(client& c, const std::string& stem, std::string_view type)
    -> result<std::vector<std::string>> {
  std::string pattern;
  for (const char ch : stem) {
    if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\') pattern += '\\';
    pattern += ch;
  }
  pattern += '*';
  std::vector<std::string> names;
  std::string cursor = "0";
  do {
    auto r = c.command({"SCAN", cursor, "MATCH", pattern, "TYPE", std::string(type), "COUNT", "1000"});
    if (!r) return std::move(r).error();
    if (r->elements.size() != 2) return permanent_error(fmt::format("redis: SCAN {} answered an unexpected reply", pattern));
    cursor = r->elements[0].str;
    for (const auto& key : r->elements[1].elements) names.push_back(key.str.substr(stem.size()));
  } while (cursor != "0");
  // SCAN may return a key twice. std::unique, not std::ranges::unique: clang 14 cannot use
  // libstdc++ 12's subrange.
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace pipeline::redis::detail
