#include "worker_pool.hpp"

#include <algorithm>

namespace pipeline::detail {

void worker_pool::add() {
  std::scoped_lock lock{mutex_};
  run_.counters.workers->inc();
  ++count_;
  threads_.emplace_back([this] {
    if (!body_()) run_.counters.workers->dec();  // a retired worker was counted out by retire()
  });
}

auto worker_pool::retire() -> bool {
  auto pending = retirements_.load();
  while (pending > 0) {
    if (retirements_.compare_exchange_weak(pending, pending - 1)) {
      std::scoped_lock lock{mutex_};
      --count_;
      run_.counters.workers->dec();
      return true;
    }
  }
  return false;
}

void worker_pool::rescale(autoscaler& scaler, std::size_t depth) {
  std::size_t running = 0;
  {
    std::scoped_lock lock{mutex_};
    running = count_ - std::min(count_, static_cast<std::size_t>(retirements_.load()));
  }
  const auto desired = scaler.evaluate(depth, running);
  if (desired > running) {
    run_.log().info("{}: scaling up from {} to {} workers (queue depth {})", run_.name(), running, desired, depth);
    for (auto i = running; i < desired; ++i) add();
  } else if (desired < running) {
    run_.log().info("{}: scaling down from {} to {} workers", run_.name(), running, desired);
    retirements_ += static_cast<std::uint32_t>(running - desired);
  }
}

void worker_pool::join() {
  std::vector<std::jthread> done;
  {
    std::scoped_lock lock{mutex_};
    done.swap(threads_);
  }
}  // joins them, outside the lock: a worker may still call retire()

}  // namespace pipeline::detail
