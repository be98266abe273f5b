#pragma once

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <utility>
#include <vector>

#include <pipeline/detail/chrono.hpp>
#include <pipeline/generator.hpp>
#include <pipeline/queue_status.hpp>

namespace pipeline::detail {

// The body of pipeline::size_or_time_batches, which checks the arguments and documents it.
template <class Q>
auto batch_queue(Q& queue, std::size_t max_items, std::chrono::milliseconds max_wait, std::stop_token stop)
    -> generator<std::vector<typename Q::value_type>> {
  std::vector<typename Q::value_type> batch;
  for (;;) {
    auto first = queue.pop(stop);
    if (!first) co_return;
    batch.push_back(std::move(*first));

    const auto deadline = saturating_add(std::chrono::steady_clock::now(), saturating_ns(max_wait));
    auto ended = pop_status::popped;
    while (batch.size() < max_items) {
      auto next = queue.pop_until(deadline, stop);
      if (!next) {
        ended = next.status();  // empty (time is up), closed or stopped
        break;
      }
      batch.push_back(std::move(*next));
    }
    co_yield batch;
    // A queue may keep handing out ready items after a stop; do not wait for it to run dry.
    if (ended == pop_status::closed || ended == pop_status::stopped || stop.stop_requested()) co_return;
    batch.clear();
  }
}

}  // namespace pipeline::detail
