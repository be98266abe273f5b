#include <pipeline/memory/memory_dlq.hpp>

#include <charconv>

#include <fmt/core.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>

namespace pipeline {
namespace {

auto parse_id(const std::string& id) -> result<std::uint64_t> {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc{} || end != id.data() + id.size()) {
    return invalid_input_error(fmt::format("memory_dlq: '{}' is not one of its ids", id));
  }
  return n;
}

}  // namespace

auto memory_dlq::write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  const auto fingerprints = detail::dead_letter_fingerprints(letters);
  std::scoped_lock lock{mutex_};
  if (auto outage = outages_.take()) return *outage;
  for (std::size_t i = 0; i < letters.size(); ++i) {
    if (stored_.emplace(letters[i].partition, letters[i].pos.bytes(), fingerprints[i]).second) {
      entries_.emplace(++last_id_, letters[i]);
    }
  }
  return ok();
}

void memory_dlq::fail_next_writes(std::size_t count, error e) {
  std::scoped_lock lock{mutex_};
  outages_.schedule(count, std::move(e));
}

auto memory_dlq::entries() const -> std::vector<dead_letter> {
  std::scoped_lock lock{mutex_};
  std::vector<dead_letter> out;
  out.reserve(entries_.size());
  for (const auto& entry : entries_) out.push_back(entry.second);
  return out;
}

auto memory_dlq::read(const dead_letter_filter& filter, const std::optional<std::string>& after_id, std::size_t limit,
                      std::stop_token stop) const -> result<std::vector<stored_dead_letter>> {
  if (stop.stop_requested()) return stopped_error();
  std::uint64_t after = 0;
  if (after_id) {
    auto parsed = parse_id(*after_id);
    if (!parsed) return std::move(parsed).error();
    after = *parsed;
  }
  std::scoped_lock lock{mutex_};
  std::vector<stored_dead_letter> out;
  for (auto it = entries_.upper_bound(after); it != entries_.end() && out.size() < limit; ++it) {
    if (filter.matches(it->second)) out.push_back({std::to_string(it->first), it->second});
  }
  return out;
}

auto memory_dlq::resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  std::vector<std::uint64_t> numbers;  // all parsed first: an id that is not one changes nothing
  for (const auto& id : ids) {
    auto parsed = parse_id(id);
    if (!parsed) return std::move(parsed).error();
    numbers.push_back(*parsed);
  }
  std::scoped_lock lock{mutex_};
  for (const auto n : numbers) entries_.erase(n);
  return ok();
}

auto memory_dlq::record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  std::scoped_lock lock{mutex_};
  for (const auto& f : failures) {
    auto parsed = parse_id(f.id);
    if (!parsed) return std::move(parsed).error();
    if (auto it = entries_.find(*parsed); it != entries_.end()) {
      it->second.attempts += 1;
      it->second.reason = f.reason;
    }
  }
  return ok();
}

auto memory_dlq::purge(const dead_letter_filter& filter, std::stop_token stop) -> result<std::size_t> {
  if (stop.stop_requested()) return stopped_error();
  std::scoped_lock lock{mutex_};
  return static_cast<std::size_t>(std::erase_if(entries_, [&](const auto& entry) { return filter.matches(entry.second); }));
}

}  // namespace pipeline
