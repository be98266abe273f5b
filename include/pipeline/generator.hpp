#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

namespace pipeline {

/// A lazy, synchronous sequence of `T`, produced by a coroutine that `co_yield`s them.
///
/// Move-only; owns its coroutine frame (allocated with `operator new` by the call, unless the
/// compiler elides it) and destroys it, running the destructors of the body's locals, when it
/// is destroyed, also mid-iteration. Not thread-safe: one consumer; the body runs on the thread
/// that calls `begin()` or `++`, and nothing runs before `begin()`. An exception thrown by the
/// body ends the sequence and is rethrown from the `begin()` or `++` that resumed it. The body
/// cannot `co_await`.
///
/// `*it` is a `T&`, valid until the next `++`: `co_yield x` with a non-const lvalue refers to
/// `x` itself, with an rvalue to that object or temporary (alive until the body resumes), and
/// with a `const` lvalue to a copy. `for (auto x : g)` copies each element; the consumer may
/// instead modify it or move it out, `for (auto&& x : g) take(std::move(x));`, and the body then
/// sees the moved-from object after it resumes, so a body that reuses a yielded buffer resets it
/// (`buf.clear()`) before refilling it.
///
///     auto ids(int n) -> pipeline::generator<int> { for (int i = 0; i < n; ++i) co_yield i; }
///     for (int id : ids(10) | std::views::take(3)) use(id);
///     for (auto&& batch : read_batches()) sink.write(std::move(batch));
///
/// An input range but not a view, so that an lvalue composes with std views (through
/// `ref_view`) as well as an rvalue (moved into an `owning_view`). range-v3 adaptors take an
/// lvalue only: `auto g = ids(10); g | ranges::views::transform(f)`.
template <class T>
class generator {
  static_assert(std::is_object_v<T> && std::is_same_v<T, std::remove_cv_t<T>>,
                "generator<T> yields non-const objects: use generator<std::string>, not <const std::string&>");

 public:
  class promise_type;
  class iterator;

  generator(generator&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  auto operator=(generator&& other) noexcept -> generator& {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  generator(const generator&) = delete;
  auto operator=(const generator&) -> generator& = delete;
  ~generator() { destroy(); }

  /// Runs the body to its first `co_yield` on the first call; later calls return an iterator at
  /// the current element. Rethrows what the body threw. A moved-from generator is empty.
  [[nodiscard]] auto begin() -> iterator {
    if (handle_ && !handle_.promise().started_) {
      handle_.promise().started_ = true;
      resume(handle_);
    }
    return iterator{handle_};
  }
  [[nodiscard]] static auto end() noexcept -> std::default_sentinel_t { return {}; }

 private:
  using handle_type = std::coroutine_handle<promise_type>;

  explicit generator(handle_type handle) noexcept : handle_(handle) {}

  void destroy() noexcept {
    if (handle_) handle_.destroy();
  }

  // Runs the body to its next co_yield or its end; what it threw surfaces in the consumer.
  static void resume(handle_type handle) {
    handle.resume();
    if (auto& thrown = handle.promise().exception_) std::rethrow_exception(std::exchange(thrown, nullptr));
  }

  handle_type handle_;
};

template <class T>
class generator<T>::promise_type {
 public:
  auto get_return_object() noexcept -> generator { return generator{handle_type::from_promise(*this)}; }
  static auto initial_suspend() noexcept -> std::suspend_always { return {}; }
  static auto final_suspend() noexcept -> std::suspend_always { return {}; }

  // Both refer to the argument: a named object, or a temporary that the co_yield expression
  // keeps alive until the body resumes.
  auto yield_value(T& value) noexcept -> std::suspend_always {
    value_ = std::addressof(value);
    return {};
  }
  auto yield_value(T&& value) noexcept -> std::suspend_always {
    value_ = std::addressof(value);
    return {};
  }
  // The consumer gets a T& it may move from, so a const object is copied, not exposed.
  auto yield_value(const T& value) -> auto
    requires std::copy_constructible<T>
  {
    return copy_awaiter{value, *this};
  }

  static void return_void() noexcept {}
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  // Synchronous: nothing would resume a body suspended on an awaitable.
  template <class U>
  void await_transform(U&&) = delete;

 private:
  friend generator;

  class copy_awaiter {
   public:
    copy_awaiter(const T& value, promise_type& promise) : copy_(value), promise_(&promise) {}
    static auto await_ready() noexcept -> bool { return false; }
    // The awaiter lives in the frame until the body resumes; only now is its address final.
    void await_suspend(std::coroutine_handle<>) noexcept { promise_->value_ = std::addressof(copy_); }
    static void await_resume() noexcept {}

   private:
    T copy_;
    promise_type* promise_;
  };

  T* value_ = nullptr;
  std::exception_ptr exception_;
  bool started_ = false;
};

template <class T>
class generator<T>::iterator {
 public:
  // All five, so that iterator_traits and range-v3 see an input iterator too.
  using iterator_concept = std::input_iterator_tag;
  using iterator_category = std::input_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using reference = T&;

  iterator() = default;

  [[nodiscard]] auto operator*() const noexcept -> T& { return *handle_.promise().value_; }
  auto operator++() -> iterator& {
    generator::resume(handle_);
    return *this;
  }
  void operator++(int) { ++*this; }

  [[nodiscard]] friend auto operator==(const iterator& it, std::default_sentinel_t) noexcept -> bool {
    return !it.handle_ || it.handle_.done();
  }

 private:
  friend generator;
  explicit iterator(handle_type handle) noexcept : handle_(handle) {}

  handle_type handle_;
};

}  // namespace pipeline
