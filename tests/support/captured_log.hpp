#pragma once
// A logger that keeps its lines, for tests that check what a component logged (an outage's
// start and end). Thread-safe: components log from their own threads.

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/log.hpp>

namespace pipeline::test {

class captured_log {
 public:
  [[nodiscard]] auto logger() -> pipeline::logger {
    return pipeline::logger{[this](pipeline::log_level, std::string_view message) {
                              std::scoped_lock lock{mutex_};
                              lines_.emplace_back(message);
                            },
                            pipeline::log_level::debug};
  }
  /// The lines that hold `word`.
  [[nodiscard]] auto count(std::string_view word) -> std::size_t {
    std::scoped_lock lock{mutex_};
    return static_cast<std::size_t>(
        std::count_if(lines_.begin(), lines_.end(), [&](const auto& l) { return l.find(word) != std::string::npos; }));
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace pipeline::test
