#pragma once

#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include <pipeline/detail/erased_model.hpp>
#include <pipeline/source.hpp>

namespace pipeline {

/// An owning, type-erased source of `T`, for choosing a source at run time.
///
/// Holds any `source` whose value_type is `T`. `seek` forwards to a `seekable_source`; for
/// any other source `can_seek()` is false and `seek` returns a `permanent` error. Not
/// thread-safe (no source is). Move-only; a moved-from any_source may only be destroyed or
/// assigned.
template <class T>
class any_source {
 public:
  using value_type = T;

  template <class S>
    requires(!std::same_as<std::remove_cvref_t<S>, any_source>) && source<detail::unwrap_ref_t<S>> &&
            std::same_as<source_value_t<detail::unwrap_ref_t<S>>, T>
  any_source(S&& impl)  // NOLINT(google-explicit-constructor)
      : self_(std::make_unique<model<std::remove_cvref_t<S>>>(std::in_place, std::forward<S>(impl))) {}

  template <class S, class... Args>
    requires source<S> && std::same_as<source_value_t<S>, T>
  explicit any_source(std::in_place_type_t<S>, Args&&... args)
      : self_(std::make_unique<model<S>>(std::in_place, std::forward<Args>(args)...)) {}

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<T>>> {
    return self_->next_batch(std::move(stop));
  }
  [[nodiscard]] auto seek(const position& pos) -> result<void> { return self_->seek(pos); }
  [[nodiscard]] auto can_seek() const noexcept -> bool { return self_->can_seek(); }

 private:
  struct interface {
    virtual ~interface() = default;
    virtual auto next_batch(std::stop_token) -> result<std::optional<batch<T>>> = 0;
    virtual auto seek(const position&) -> result<void> = 0;
    [[nodiscard]] virtual auto can_seek() const noexcept -> bool = 0;
  };
  template <class S>
  struct model final : detail::erased_model<interface, S> {
    using detail::erased_model<interface, S>::erased_model;
    auto next_batch(std::stop_token stop) -> result<std::optional<batch<T>>> override {
      return this->target().next_batch(std::move(stop));
    }
    auto seek(const position& pos) -> result<void> override {
      if constexpr (seekable_source<detail::unwrap_ref_t<S>>) return this->target().seek(pos);
      else return permanent_error("this source cannot seek to a checkpoint");
    }
    [[nodiscard]] auto can_seek() const noexcept -> bool override {
      return seekable_source<detail::unwrap_ref_t<S>>;
    }
  };

  std::unique_ptr<interface> self_;
};

}  // namespace pipeline
