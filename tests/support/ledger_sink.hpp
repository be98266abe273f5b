#pragma once

// The example transactional sink of docs/custom-adapters.md: records and the batch ledger in
// memory, both changed under one lock, which stands for the one transaction a database gives.
// The contract suite runs it (tests/testing/test_transactional_sink_contract.cpp), and the
// runner's exactly-once tests write through it (tests/test_runner_exactly_once.cpp).

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

namespace test_support {

/// Thread-safe: every member takes the one lock. Not movable (it owns the mutex).
template <class T>
class ledger_sink {
 public:
  using value_type = T;

  ledger_sink() = default;
  ledger_sink(const ledger_sink&) = delete;
  auto operator=(const ledger_sink&) -> ledger_sink& = delete;

  auto write(std::span<const T> records, std::stop_token stop) -> pipeline::result<void> {
    if (stop.stop_requested()) return pipeline::stopped_error();
    std::scoped_lock lock{mutex_};
    records_.insert(records_.end(), records.begin(), records.end());
    return pipeline::ok();
  }

  // Records and entry together, or neither: here one lock; in a database one transaction.
  auto write_committed(std::span<const T> records, const pipeline::committed_batch& entry, std::stop_token stop)
      -> pipeline::result<void> {
    if (stop.stop_requested()) return pipeline::stopped_error();
    std::scoped_lock lock{mutex_};
    const auto same = [&](const pipeline::committed_batch& e) {
      return e.job == entry.job && e.run == entry.run && e.sequence == entry.sequence && e.slice == entry.slice;
    };
    if (const auto found = std::find_if(ledger_.begin(), ledger_.end(), same); found != ledger_.end()) {
      if (found->start == entry.start && found->end == entry.end) return pipeline::ok();  // committed already
      return pipeline::conflict_error("another runner of this job committed this batch with other positions");
    }
    records_.insert(records_.end(), records.begin(), records.end());
    ledger_.push_back(entry);
    ++committed_writes_;
    return pipeline::ok();
  }

  auto committed_batches(std::string_view job, std::stop_token stop)
      -> pipeline::result<std::vector<pipeline::committed_batch>> {
    if (stop.stop_requested()) return pipeline::stopped_error();
    std::scoped_lock lock{mutex_};
    std::vector<pipeline::committed_batch> out;
    std::copy_if(ledger_.begin(), ledger_.end(), std::back_inserter(out), [&](const auto& e) { return e.job == job; });
    return out;
  }

  // One erase for the whole range, as a database runs one DELETE.
  auto forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
      -> pipeline::result<void> {
    if (stop.stop_requested()) return pipeline::stopped_error();
    std::scoped_lock lock{mutex_};
    std::erase_if(ledger_, [&](const pipeline::committed_batch& e) {
      return e.job == job && (e.run < run || (e.run == run && e.sequence <= sequence));
    });
    ++forget_calls_;
    return pipeline::ok();
  }

  [[nodiscard]] auto records() -> std::vector<T> {
    std::scoped_lock lock{mutex_};
    return records_;
  }
  [[nodiscard]] auto ledger_size() -> std::size_t {
    std::scoped_lock lock{mutex_};
    return ledger_.size();
  }
  // Batches written with a ledger entry (write_committed), over the sink's life.
  [[nodiscard]] auto committed_writes() -> std::size_t {
    std::scoped_lock lock{mutex_};
    return committed_writes_;
  }

 private:
  std::mutex mutex_;
  std::vector<T> records_;
  std::vector<pipeline::committed_batch> ledger_;
  std::size_t forget_calls_ = 0;
  std::size_t committed_writes_ = 0;
};

static_assert(pipeline::transactional_sink<ledger_sink<int>>);

}  // namespace test_support
