#pragma once

#include <cstddef>
#include <utility>

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>

namespace bench {

/// moodycamel::BlockingConcurrentQueue made bounded by a semaphore of free slots, as
/// perf-anchors measures it: push = `free.wait()` + `enqueue`, pop = `wait_dequeue` +
/// `free.signal()`; bulk takes many permits with `waitMany` and returns them in one `signal`.
///
/// Thread-safe. Use one `producer`/`consumer` per thread (they hold moodycamel's tokens).
template <class T>
class moodycamel_bounded {
 public:
  explicit moodycamel_bounded(std::size_t capacity)
      : queue_(capacity), free_(static_cast<moodycamel::LightweightSemaphore::ssize_t>(capacity)) {}

  class producer {
   public:
    explicit producer(moodycamel_bounded& q) : q_(&q), token_(q.queue_) {}
    void push(T&& value) {
      q_->free_.wait();
      q_->queue_.enqueue(token_, std::move(value));
    }
    auto push_bulk(T* items, std::size_t n) -> std::size_t {
      const auto got = static_cast<std::size_t>(
          q_->free_.waitMany(static_cast<moodycamel::LightweightSemaphore::ssize_t>(n)));
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push  // GCC 12 false positive inside moodycamel's inlined enqueue_bulk
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
      q_->queue_.enqueue_bulk(token_, std::make_move_iterator(items), got);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
      return got;
    }

   private:
    moodycamel_bounded* q_;
    moodycamel::ProducerToken token_;
  };

  class consumer {
   public:
    explicit consumer(moodycamel_bounded& q) : q_(&q), token_(q.queue_) {}
    auto pop() -> T {
      T value;
      q_->queue_.wait_dequeue(token_, value);
      q_->free_.signal();
      return value;
    }
    auto pop_bulk(T* out, std::size_t max) -> std::size_t {
      const auto got = q_->queue_.wait_dequeue_bulk(token_, out, max);
      q_->free_.signal(static_cast<moodycamel::LightweightSemaphore::ssize_t>(got));
      return got;
    }

   private:
    moodycamel_bounded* q_;
    moodycamel::ConsumerToken token_;
  };

 private:
  moodycamel::BlockingConcurrentQueue<T> queue_;
  moodycamel::LightweightSemaphore free_;
};

}  // namespace bench
