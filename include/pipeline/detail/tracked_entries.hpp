#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <pipeline/result.hpp>

namespace pipeline::detail {

/// The entries a queue consumer handed out and has not acknowledged yet, under increasing
/// numbers (one per read: `queue_source` puts it in the batch's end), so that a checkpoint of
/// the batch with number N acknowledges every entry read up to it. Shared by the queue
/// consumers of every adapter.
///
/// Thread-safe; `acknowledge_through` holds the lock while its acknowledgement runs, so
/// acknowledgements are serialised.
class tracked_entries {
 public:
  /// Remembers `ids` under a new number (numbers increase from 1).
  [[nodiscard]] auto track(std::vector<std::string> ids) -> std::uint64_t {
    std::scoped_lock lock{mutex_};
    const auto n = next_number_++;
    unacked_.emplace(n, std::move(ids));
    return n;
  }

  /// `acknowledge(ids)` (a `result<void>`) for the ids of every number up to `number`, then
  /// forgets them; kept when it fails, so a retry acknowledges the same entries. Not called
  /// when there are none.
  template <class Acknowledge>
  [[nodiscard]] auto acknowledge_through(std::uint64_t number, Acknowledge&& acknowledge) -> result<void> {
    std::scoped_lock lock{mutex_};
    const auto end = unacked_.upper_bound(number);
    std::vector<std::string> ids;
    for (auto it = unacked_.begin(); it != end; ++it) ids.insert(ids.end(), it->second.begin(), it->second.end());
    if (!ids.empty()) {
      if (auto done = acknowledge(std::as_const(ids)); !done) return done;
    }
    unacked_.erase(unacked_.begin(), end);
    if (unacked_.empty()) all_acknowledged_.notify_all();
    return ok();
  }

  /// The ids tracked under `number` (empty when it was acknowledged already).
  [[nodiscard]] auto ids_of(std::uint64_t number) -> std::vector<std::string> {
    std::scoped_lock lock{mutex_};
    const auto it = unacked_.find(number);
    return it != unacked_.end() ? it->second : std::vector<std::string>{};
  }

  /// Forgets `number`: its entries were acknowledged another way.
  void forget(std::uint64_t number) {
    std::scoped_lock lock{mutex_};
    unacked_.erase(number);
    if (unacked_.empty()) all_acknowledged_.notify_all();
  }

  /// Waits until nothing is tracked; `stopped` on stop.
  [[nodiscard]] auto wait_until_all_acknowledged(const std::stop_token& stop) -> result<void> {
    std::unique_lock lock{mutex_};
    if (!all_acknowledged_.wait(lock, stop, [&] { return unacked_.empty(); })) return stopped_error();
    return ok();
  }

 private:
  std::mutex mutex_;
  std::uint64_t next_number_ = 1;
  std::map<std::uint64_t, std::vector<std::string>> unacked_;
  std::condition_variable_any all_acknowledged_;  // unacked_ became empty
};

}  // namespace pipeline::detail
