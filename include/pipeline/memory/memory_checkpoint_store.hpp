#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <pipeline/checkpoint.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// Checkpoints kept in memory, with the same version fencing as the durable stores: for
/// tests, and for runs that need no resume.
///
/// Thread-safe. Not movable (it owns a mutex): use `std::ref` or build it in place.
class memory_checkpoint_store {
 public:
  memory_checkpoint_store() = default;
  memory_checkpoint_store(const memory_checkpoint_store&) = delete;
  auto operator=(const memory_checkpoint_store&) -> memory_checkpoint_store& = delete;

  [[nodiscard]] auto load(std::string_view key) -> result<checkpoint> {
    std::scoped_lock lock{mutex_};
    if (auto it = checkpoints_.find(key); it != checkpoints_.end()) return it->second;
    return checkpoint{};
  }

  [[nodiscard]] auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> {
    std::scoped_lock lock{mutex_};
    auto it = checkpoints_.find(key);
    const std::uint64_t stored = it == checkpoints_.end() ? 0 : it->second.version;
    if (stored != expected_version) {
      return conflict_error("checkpoint '" + std::string(key) + "' is at version " + std::to_string(stored) +
                            ", not " + std::to_string(expected_version));
    }
    checkpoint next{pos, stored + 1};
    if (it == checkpoints_.end()) checkpoints_.emplace(std::string(key), next);
    else it->second = next;
    return next.version;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, checkpoint, std::less<>> checkpoints_;
};

static_assert(checkpoint_store<memory_checkpoint_store>);

}  // namespace pipeline
