#include <pipeline/memory/memory_checkpoint_store.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <fmt/core.h>

namespace pipeline {

struct memory_checkpoint_store::state {
  std::mutex mutex;
  std::map<std::string, checkpoint, std::less<>> checkpoints;
};

memory_checkpoint_store::memory_checkpoint_store() : state_(std::make_unique<state>()) {}
memory_checkpoint_store::~memory_checkpoint_store() = default;

auto memory_checkpoint_store::load(std::string_view key) -> result<checkpoint> {
  std::scoped_lock lock{state_->mutex};
  auto& checkpoints = state_->checkpoints;
  if (auto it = checkpoints.find(key); it != checkpoints.end()) return it->second;
  return checkpoint{};
}

auto memory_checkpoint_store::save(std::string_view key, const position& pos, std::uint64_t expected_version)
    -> result<std::uint64_t> {
  std::scoped_lock lock{state_->mutex};
  auto& checkpoints = state_->checkpoints;
  auto it = checkpoints.find(key);
  const std::uint64_t stored = it == checkpoints.end() ? 0 : it->second.version;
  if (stored != expected_version) {
    return conflict_error(fmt::format("checkpoint '{}' is at version {}, not {}", key, stored, expected_version));
  }
  checkpoint next{pos, stored + 1};
  if (it == checkpoints.end()) checkpoints.emplace(std::string(key), next);
  else it->second = next;
  return next.version;
}

}  // namespace pipeline
