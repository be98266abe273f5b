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
/// Thread-safe: `write` and `write_each` may be called from many workers at once. `write` is
/// all-or-nothing, like a database transaction: when the failure rule rejects any record of
/// the batch, or a scheduled outage is pending, nothing of the batch is stored. `write_each`
/// answers per record, like a database that refuses single rows: the records the rule
/// rejects are returned (in index order, each with the rule's error) and the others stored;
/// a scheduled outage still fails the whole call and stores nothing. Not movable (it owns a
/// mutex): hand it to an `any_sink` with `std::ref` or build it in place.
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

  /// Stores the records the failure rule accepts; returns the others with the rule's error.
  [[nodiscard]] auto write_each(std::span<const T> records, std::stop_token stop)
      -> result<std::vector<rejected_record>> {
    if (stop.stop_requested()) return stopped_error();
    std::scoped_lock lock{mutex_};
    ++write_calls_;
    if (auto outage = outages_.take()) return *outage;
    std::vector<rejected_record> refused;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (auto e = rule_ ? rule_(records[i]) : std::optional<error>{}) refused.push_back({i, std::move(*e)});
      else records_.push_back(records[i]);
    }
    return refused;
  }

  /// Batches holding a record for which `rule` returns an error fail with that error
  /// (`write`); `write_each` refuses just those records.
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
  /// Every call to `write` and `write_each`, failed ones included.
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

}  // namespace pipeline
