#pragma once

#include <cstdint>
#include <memory>
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
  memory_checkpoint_store();
  memory_checkpoint_store(const memory_checkpoint_store&) = delete;
  auto operator=(const memory_checkpoint_store&) -> memory_checkpoint_store& = delete;
  ~memory_checkpoint_store();

  [[nodiscard]] auto load(std::string_view key) -> result<checkpoint>;
  [[nodiscard]] auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t>;

 private:
  struct state;  // the mutex and the map, in src/core/memory: no user file compiles them
  std::unique_ptr<state> state_;
};

static_assert(checkpoint_store<memory_checkpoint_store>);

}  // namespace pipeline
