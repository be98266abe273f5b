// expect: constraints not satisfied|no matching function
// size_or_time_batches needs a timed_queue: a blocking pop and one with a deadline.
#include <stop_token>

#include <pipeline/queue_status.hpp>
#include <pipeline/size_or_time_batches.hpp>

struct blocking_only_queue {
  using value_type = int;
  auto pop(std::stop_token) -> pipeline::pop_result<int> { return pipeline::pop_result<int>{1}; }
};

void misuse(blocking_only_queue& q) { (void)pipeline::size_or_time_batches(q, {}); }
