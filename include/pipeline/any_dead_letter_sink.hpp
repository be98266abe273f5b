#pragma once

#include <memory>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/erased_model.hpp>

namespace pipeline {

/// An owning, type-erased dead-letter sink, for choosing the DLQ at run time.
///
/// Holds any `dead_letter_sink`; as thread-safe as what it holds (all of ours are).
/// Move-only; a moved-from wrapper may only be destroyed or assigned.
class any_dead_letter_sink {
 public:
  template <class D>
    requires(!std::same_as<std::remove_cvref_t<D>, any_dead_letter_sink>) &&
            dead_letter_sink<detail::unwrap_ref_t<D>>
  any_dead_letter_sink(D&& impl)  // NOLINT(google-explicit-constructor)
      : self_(std::make_unique<model<std::remove_cvref_t<D>>>(std::in_place, std::forward<D>(impl))) {}

  template <class D, class... Args>
    requires dead_letter_sink<D>
  explicit any_dead_letter_sink(std::in_place_type_t<D>, Args&&... args)
      : self_(std::make_unique<model<D>>(std::in_place, std::forward<Args>(args)...)) {}

  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
    return self_->write(letters, std::move(stop));
  }

 private:
  struct interface {
    virtual ~interface() = default;
    virtual auto write(std::span<const dead_letter>, std::stop_token) -> result<void> = 0;
  };
  template <class D>
  struct model final : detail::erased_model<interface, D> {
    using detail::erased_model<interface, D>::erased_model;
    auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> override {
      return this->target().write(letters, std::move(stop));
    }
  };

  std::unique_ptr<interface> self_;
};

}  // namespace pipeline
