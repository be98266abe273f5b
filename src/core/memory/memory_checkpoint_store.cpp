#include <pipeline/memory/memory_checkpoint_store.hpp>

#include <fmt/core.h>

namespace pipeline {

auto memory_checkpoint_store::load(std::string_view key) -> result<checkpoint> {
  std::scoped_lock lock{mutex_};
  if (auto it = checkpoints_.find(key); it != checkpoints_.end()) return it->second;
  return checkpoint{};
}

auto memory_checkpoint_store::save(std::string_view key, const position& pos, std::uint64_t expected_version)
    -> result<std::uint64_t> {
  std::scoped_lock lock{mutex_};
  auto it = checkpoints_.find(key);
  const std::uint64_t stored = it == checkpoints_.end() ? 0 : it->second.version;
  if (stored != expected_version) {
    return conflict_error(fmt::format("checkpoint '{}' is at version {}, not {}", key, stored, expected_version));
  }
  checkpoint next{pos, stored + 1};
  if (it == checkpoints_.end()) checkpoints_.emplace(std::string(key), next);
  else it->second = next;
  return next.version;
}

}  // namespace pipeline
