#pragma once

#include <cstddef>
#include <optional>
#include <utility>

#include <pipeline/error.hpp>

namespace pipeline::detail {

// "The next n calls fail with this error": the outage the memory adapters can fake so that
// users test their retry and DLQ handling. Not synchronised; its owner locks.
class scheduled_failures {
 public:
  void schedule(std::size_t count, error e) {
    remaining_ = count;
    error_ = std::move(e);
  }
  auto take() -> std::optional<error> {
    if (remaining_ == 0) return std::nullopt;
    --remaining_;
    return error_;
  }

 private:
  std::size_t remaining_ = 0;
  error error_;
};

}  // namespace pipeline::detail
