#pragma once

// The run's worker threads: started at the first count, added and retired by the autoscaler
// as the queue depth changes, joined at the end. A retired worker ends after its current batch.
// Thread-safe: the autoscaler's thread and the workers call it at once.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <pipeline/autoscaler.hpp>

#include "run_context.hpp"

namespace pipeline::detail {

class worker_pool {
 public:
  // `body` is a worker's loop; it returns true when the worker retired (see `retire`).
  worker_pool(run_context& run, std::function<bool()> body) : run_(run), body_(std::move(body)) {}
  worker_pool(const worker_pool&) = delete;
  auto operator=(const worker_pool&) -> worker_pool& = delete;
  ~worker_pool() { join(); }

  void add();
  // A worker that finds a retirement pending takes it; its loop then returns true.
  auto retire() -> bool;
  // Adds or retires workers to reach what `scaler` wants for `depth` queued batches.
  void rescale(autoscaler& scaler, std::size_t depth);
  void join();

 private:
  run_context& run_;
  std::function<bool()> body_;
  std::mutex mutex_;
  std::vector<std::jthread> threads_;
  std::size_t count_ = 0;                      // started and not retired
  std::atomic<std::uint32_t> retirements_{0};  // workers asked to end
};

}  // namespace pipeline::detail
