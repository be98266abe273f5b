#pragma once

#include <cstddef>
#include <memory>
#include <stop_token>
#include <type_traits>
#include <utility>

#include <pipeline/detail/erased_model.hpp>
#include <pipeline/queue.hpp>

namespace pipeline {

/// An owning, type-erased queue of `T`: the in-process `mpmc_queue` or a distributed one,
/// chosen at run time.
///
/// Queues are usually not movable: build the queue in place.
///
///     pipeline::any_queue<job> q{std::in_place_type<pipeline::mpmc_queue<job>>, 1024};
///
/// Thread-safe (every queue is). The wrapper itself is move-only.
template <class T>
class any_queue {
 public:
  using value_type = T;

  template <class Q>
    requires(!std::same_as<std::remove_cvref_t<Q>, any_queue>) && queue<detail::unwrap_ref_t<Q>> &&
            std::same_as<typename detail::unwrap_ref_t<Q>::value_type, T>
  any_queue(Q&& impl)  // NOLINT(google-explicit-constructor)
      : self_(std::make_unique<model<std::remove_cvref_t<Q>>>(std::in_place, std::forward<Q>(impl))) {}

  template <class Q, class... Args>
    requires queue<Q> && std::same_as<typename Q::value_type, T>
  explicit any_queue(std::in_place_type_t<Q>, Args&&... args)
      : self_(std::make_unique<model<Q>>(std::in_place, std::forward<Args>(args)...)) {}

  [[nodiscard]] auto push(T value, std::stop_token stop) -> push_status {
    return self_->push(std::move(value), std::move(stop));
  }
  [[nodiscard]] auto pop(std::stop_token stop) -> pop_result<T> { return self_->pop(std::move(stop)); }
  void close() { self_->close(); }
  [[nodiscard]] auto size() const -> std::size_t { return self_->size(); }

 private:
  struct interface {
    virtual ~interface() = default;
    virtual auto push(T, std::stop_token) -> push_status = 0;
    virtual auto pop(std::stop_token) -> pop_result<T> = 0;
    virtual void close() = 0;
    [[nodiscard]] virtual auto size() const -> std::size_t = 0;
  };
  template <class Q>
  struct model final : detail::erased_model<interface, Q> {
    using detail::erased_model<interface, Q>::erased_model;
    auto push(T value, std::stop_token stop) -> push_status override {
      return this->target().push(std::move(value), std::move(stop));
    }
    auto pop(std::stop_token stop) -> pop_result<T> override { return this->target().pop(std::move(stop)); }
    void close() override { this->target().close(); }
    [[nodiscard]] auto size() const -> std::size_t override { return this->target().size(); }
  };

  std::unique_ptr<interface> self_;
};

}  // namespace pipeline
