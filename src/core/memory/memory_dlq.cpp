#include <pipeline/memory/memory_dlq.hpp>

#include <charconv>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include <fmt/core.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>
#include <pipeline/detail/scheduled_failures.hpp>

namespace pipeline {

struct memory_dlq::state {
  std::mutex mutex;
  std::map<std::uint64_t, dead_letter> entries;  // by id, the write sequence number
  std::uint64_t last_id = 0;
  std::set<std::tuple<std::uint32_t, std::string, std::string>> stored;  // (partition, position, fingerprint)
  detail::scheduled_failures outages;
};
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

memory_dlq::memory_dlq() : state_(std::make_unique<state>()) {}
memory_dlq::~memory_dlq() = default;

auto memory_dlq::write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  const auto fingerprints = detail::dead_letter_fingerprints(letters);
  std::scoped_lock lock{state_->mutex};
  if (auto outage = state_->outages.take()) return *outage;
  for (std::size_t i = 0; i < letters.size(); ++i) {
    if (state_->stored.emplace(letters[i].partition, letters[i].pos.bytes(), fingerprints[i]).second) {
      state_->entries.emplace(++state_->last_id, letters[i]);
    }
  }
  return ok();
}

void memory_dlq::fail_next_writes(std::size_t count, error e) {
  std::scoped_lock lock{state_->mutex};
  state_->outages.schedule(count, std::move(e));
}

auto memory_dlq::entries() const -> std::vector<dead_letter> {
  std::scoped_lock lock{state_->mutex};
  std::vector<dead_letter> out;
  out.reserve(state_->entries.size());
  for (const auto& entry : state_->entries) out.push_back(entry.second);
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
  std::scoped_lock lock{state_->mutex};
  std::vector<stored_dead_letter> out;
  for (auto it = state_->entries.upper_bound(after); it != state_->entries.end() && out.size() < limit; ++it) {
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
  std::scoped_lock lock{state_->mutex};
  for (const auto n : numbers) state_->entries.erase(n);
  return ok();
}

auto memory_dlq::record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  std::scoped_lock lock{state_->mutex};
  for (const auto& f : failures) {
    auto parsed = parse_id(f.id);
    if (!parsed) return std::move(parsed).error();
    if (auto it = state_->entries.find(*parsed); it != state_->entries.end()) {
      it->second.attempts += 1;
      it->second.reason = f.reason;
    }
  }
  return ok();
}

auto memory_dlq::purge(const dead_letter_filter& filter, std::stop_token stop) -> result<std::size_t> {
  if (stop.stop_requested()) return stopped_error();
  std::scoped_lock lock{state_->mutex};
  return static_cast<std::size_t>(std::erase_if(state_->entries, [&](const auto& entry) { return filter.matches(entry.second); }));
}

}  // namespace pipeline
