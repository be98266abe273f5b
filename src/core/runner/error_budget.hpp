#pragma once

// The error budget (runner_options::max_dead_letters, max_dead_letter_share and
// dead_letter_window): how many dead letters a run may make, in all and as a share of its
// recent records, before bad data is taken for a broken input and the run fails.
// Thread-safe: workers account for their batches at once.

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include <pipeline/runner.hpp>

namespace pipeline::detail {

class error_budget {
 public:
  explicit error_budget(const runner_options& options) : options_(options) {}

  // A batch of `records` records is done with `dead` of them dead-lettered, making
  // `dead_in_all` in the run so far. Returns why the budget is spent, or nullopt.
  [[nodiscard]] auto spend(std::uint64_t records, std::uint64_t dead, std::uint64_t dead_in_all)
      -> std::optional<std::string>;

 private:
  struct batch_tally {
    std::uint64_t records;
    std::uint64_t dead;
  };

  const runner_options& options_;
  std::mutex mutex_;
  std::deque<batch_tally> window_;  // the most recent batches, covering at least the window
  std::uint64_t window_records_ = 0;
  std::uint64_t window_dead_ = 0;
};

}  // namespace pipeline::detail
