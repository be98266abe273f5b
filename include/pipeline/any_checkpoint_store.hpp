#pragma once

#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include <pipeline/checkpoint.hpp>
#include <pipeline/detail/erased_model.hpp>

namespace pipeline {

/// An owning, type-erased checkpoint store, for choosing the store at run time.
///
/// Holds any `checkpoint_store`: use it for a store of your own or `memory_checkpoint_store`.
/// The adapters' stores are all `basic_checkpoint_store`s already (copyable, with `keys()`):
/// hold those as that, without this extra indirection.
/// As thread-safe as the store it holds (all of ours are).
/// Move-only; a moved-from wrapper may only be destroyed or assigned.
class any_checkpoint_store {
 public:
  template <class C>
    requires(!std::same_as<std::remove_cvref_t<C>, any_checkpoint_store>) &&
            checkpoint_store<detail::unwrap_ref_t<C>>
  any_checkpoint_store(C&& impl)  // NOLINT(google-explicit-constructor)
      : self_(std::make_unique<model<std::remove_cvref_t<C>>>(std::in_place, std::forward<C>(impl))) {}

  template <class C, class... Args>
    requires checkpoint_store<C>
  explicit any_checkpoint_store(std::in_place_type_t<C>, Args&&... args)
      : self_(std::make_unique<model<C>>(std::in_place, std::forward<Args>(args)...)) {}

  [[nodiscard]] auto load(std::string_view key) -> result<checkpoint> { return self_->load(key); }
  [[nodiscard]] auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> {
    return self_->save(key, pos, expected_version);
  }

 private:
  struct interface {
    virtual ~interface() = default;
    virtual auto load(std::string_view) -> result<checkpoint> = 0;
    virtual auto save(std::string_view, const position&, std::uint64_t) -> result<std::uint64_t> = 0;
  };
  template <class C>
  struct model final : detail::erased_model<interface, C> {
    using detail::erased_model<interface, C>::erased_model;
    auto load(std::string_view key) -> result<checkpoint> override { return this->target().load(key); }
    auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
        -> result<std::uint64_t> override {
      return this->target().save(key, pos, expected_version);
    }
  };

  std::unique_ptr<interface> self_;
};

}  // namespace pipeline
