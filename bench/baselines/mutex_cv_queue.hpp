#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace bench {

/// The obviously correct bounded queue: a ring under one std::mutex, with one condition
/// variable per direction. The baseline every faster queue is measured against.
///
/// Thread-safe, blocking; `push_bulk`/`pop_bulk` move as many items as fit (are there) under
/// one lock, waiting for at least one.
template <class T>
class mutex_cv_queue {
 public:
  explicit mutex_cv_queue(std::size_t capacity) : ring_(capacity) {}

  void push(T value) {
    {
      std::unique_lock lock{mutex_};
      not_full_.wait(lock, [&] { return count_ < ring_.size(); });
      ring_[(head_ + count_) % ring_.size()] = std::move(value);
      ++count_;
    }
    not_empty_.notify_one();
  }

  auto pop() -> T {
    T value;
    {
      std::unique_lock lock{mutex_};
      not_empty_.wait(lock, [&] { return count_ > 0; });
      value = std::move(ring_[head_]);
      head_ = (head_ + 1) % ring_.size();
      --count_;
    }
    not_full_.notify_one();
    return value;
  }

  auto push_bulk(T* items, std::size_t n) -> std::size_t {
    std::size_t taken = 0;
    {
      std::unique_lock lock{mutex_};
      not_full_.wait(lock, [&] { return count_ < ring_.size(); });
      for (; taken < n && count_ < ring_.size(); ++taken, ++count_) {
        ring_[(head_ + count_) % ring_.size()] = std::move(items[taken]);
      }
    }
    wake(not_empty_, taken);
    return taken;
  }

  auto pop_bulk(T* out, std::size_t max) -> std::size_t {
    std::size_t got = 0;
    {
      std::unique_lock lock{mutex_};
      not_empty_.wait(lock, [&] { return count_ > 0; });
      for (; got < max && count_ > 0; ++got, --count_) {
        out[got] = std::move(ring_[head_]);
        head_ = (head_ + 1) % ring_.size();
      }
    }
    wake(not_full_, got);
    return got;
  }

 private:
  static void wake(std::condition_variable& cv, std::size_t n) {
    if (n == 1) {
      cv.notify_one();
    } else {
      cv.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::vector<T> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace bench
