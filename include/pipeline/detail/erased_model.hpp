#pragma once

#include <functional>
#include <type_traits>
#include <utility>

namespace pipeline::detail {

// An any_ wrapper owns its adapter, or refers to one the caller keeps through
// std::reference_wrapper (to inspect a memory_sink after a run, say).
template <class T>
struct unwrap_ref {
  using type = T;
  static auto get(T& t) noexcept -> T& { return t; }
  static auto get(const T& t) noexcept -> const T& { return t; }
};
template <class T>
struct unwrap_ref<std::reference_wrapper<T>> {
  using type = T;
  static auto get(const std::reference_wrapper<T>& r) noexcept -> T& { return r.get(); }
};
template <class T>
using unwrap_ref_t = typename unwrap_ref<std::remove_cvref_t<T>>::type;

// The part every any_ wrapper's model shares: holding the adapter and reaching it.
template <class Interface, class Impl>
class erased_model : public Interface {
 public:
  template <class... Args>
  explicit erased_model(std::in_place_t, Args&&... args) : impl_(std::forward<Args>(args)...) {}

 protected:
  auto target() noexcept -> typename unwrap_ref<Impl>::type& { return unwrap_ref<Impl>::get(impl_); }
  auto target() const noexcept -> const typename unwrap_ref<Impl>::type& { return unwrap_ref<Impl>::get(impl_); }

 private:
  Impl impl_;
};

}  // namespace pipeline::detail
