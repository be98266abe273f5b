#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <utility>
#include <vector>

#include <pipeline/detail/scheduled_failures.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

namespace pipeline {

/// A sink that keeps what it is given in memory, and can fail on purpose: for tests of
/// pipelines and of users' own code.
///
/// Thread-safe: `write` may be called from many workers at once. A write is all-or-nothing,
/// like a database transaction: when a failure rule rejects any record of the batch, or a
/// scheduled outage is pending, nothing of the batch is stored. Not movable (it owns a mutex):
/// hand it to an `any_sink` with `std::ref` or build it in place.
///
///     pipeline::memory_sink<row> sink;
///     sink.fail_records([](const row& r) -> std::optional<pipeline::error> {
///       if (r.price < 0) return pipeline::permanent_error("negative price");
///       return std::nullopt;
///     });
template <class T>
class memory_sink {
 public:
  using value_type = T;
  /// Returns the error to fail a batch with when it contains this record.
  using failure_rule = std::function<std::optional<error>(const T&)>;

  memory_sink() = default;
  memory_sink(const memory_sink&) = delete;
  auto operator=(const memory_sink&) -> memory_sink& = delete;

  [[nodiscard]] auto write(std::span<const T> records, std::stop_token stop) -> result<void> {
    if (stop.stop_requested()) return stopped_error();
    std::scoped_lock lock{mutex_};
    ++write_calls_;
    if (auto outage = outages_.take()) return *outage;
    if (rule_) {
      for (const auto& r : records) {
        if (auto e = rule_(r)) return *e;
      }
    }
    records_.insert(records_.end(), records.begin(), records.end());
    return ok();
  }

  /// Batches holding a record for which `rule` returns an error fail with that error.
  void fail_records(failure_rule rule) {
    std::scoped_lock lock{mutex_};
    rule_ = std::move(rule);
  }
  /// The next `count` writes fail with `e` and store nothing (an outage).
  void fail_next_writes(std::size_t count, error e) {
    std::scoped_lock lock{mutex_};
    outages_.schedule(count, std::move(e));
  }

  /// A copy of everything stored, in the order it was written.
  [[nodiscard]] auto records() const -> std::vector<T> {
    std::scoped_lock lock{mutex_};
    return records_;
  }
  /// Every call to `write`, failed ones included.
  [[nodiscard]] auto write_calls() const -> std::size_t {
    std::scoped_lock lock{mutex_};
    return write_calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<T> records_;
  failure_rule rule_;
  detail::scheduled_failures outages_;
  std::size_t write_calls_ = 0;
};

static_assert(sink<memory_sink<int>>);

}  // namespace pipeline
