#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stop_token>
#include <string>
#include <tuple>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/detail/dead_letter_fingerprint.hpp>
#include <pipeline/detail/scheduled_failures.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// A dead-letter queue in memory: for tests, and for small runs that report their failures
/// at the end.
///
/// Stores each letter once: a letter written again (the runner dead-letters a batch again
/// after a crash or a retried DLQ write, with the same letters, whatever the batch
/// boundaries) is skipped. Its identity is the shared rule of every DLQ
/// (`detail::dead_letter_fingerprints`): partition, position, payload, and how many equal
/// payloads at that partition and position come before it in the same call, so two equal
/// records at different positions stay two (and two of one batch end, too).
///
/// A `dead_letter_store`: ids are the write sequence number (decimal, from 1); `resolve` and
/// `purge` remove entries (their identity stays, so a rewritten letter is still skipped).
///
/// Thread-safe. Can fake an outage (`fail_next_writes`) so that tests can check that a DLQ
/// failure never loses a record. Memory: every entry, and its identity. Not movable: use
/// `std::ref` or build it in place.
class memory_dlq {
 public:
  memory_dlq() = default;
  memory_dlq(const memory_dlq&) = delete;
  auto operator=(const memory_dlq&) -> memory_dlq& = delete;

  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
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

  /// The next `count` writes fail with `e` and store nothing.
  void fail_next_writes(std::size_t count, error e) {
    std::scoped_lock lock{mutex_};
    outages_.schedule(count, std::move(e));
  }

  /// A copy of every entry not resolved or purged, in the order written.
  [[nodiscard]] auto entries() const -> std::vector<dead_letter> {
    std::scoped_lock lock{mutex_};
    std::vector<dead_letter> out;
    out.reserve(entries_.size());
    for (const auto& [id, letter] : entries_) out.push_back(letter);
    return out;
  }

  [[nodiscard]] auto read(const dead_letter_filter& filter, const std::optional<std::string>& after_id,
                          std::size_t limit, std::stop_token stop) const -> result<std::vector<stored_dead_letter>> {
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

  [[nodiscard]] auto resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void> {
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

  [[nodiscard]] auto record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void> {
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

  [[nodiscard]] auto purge(const dead_letter_filter& filter, std::stop_token stop) -> result<std::size_t> {
    if (stop.stop_requested()) return stopped_error();
    std::scoped_lock lock{mutex_};
    return static_cast<std::size_t>(std::erase_if(entries_, [&](const auto& entry) { return filter.matches(entry.second); }));
  }

 private:
  static auto parse_id(const std::string& id) -> result<std::uint64_t> {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (ec != std::errc{} || end != id.data() + id.size()) {
      return invalid_input_error("memory_dlq: '" + id + "' is not one of its ids");
    }
    return n;
  }

  mutable std::mutex mutex_;
  std::map<std::uint64_t, dead_letter> entries_;  // by id, the write sequence number
  std::uint64_t last_id_ = 0;
  std::set<std::tuple<std::uint32_t, std::string, std::string>> stored_;  // (partition, position, fingerprint)
  detail::scheduled_failures outages_;
};

static_assert(dead_letter_store<memory_dlq>);

}  // namespace pipeline
