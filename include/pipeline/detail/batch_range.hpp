#pragma once

#include <cstddef>
#include <iterator>  // std::ranges concepts, without the views of <ranges>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <pipeline/generator.hpp>

namespace pipeline::detail {

// Moving is safe when nothing else can see the elements again: a single-pass input, or a
// container (not a view onto someone else's) that the caller handed over as an rvalue.
template <class R>
inline constexpr bool batch_takes_elements =
    !std::ranges::forward_range<R> || (!std::is_lvalue_reference_v<R> && !std::ranges::view<std::remove_cvref_t<R>>);

template <class R>
using batches_of = generator<std::vector<std::ranges::range_value_t<R>>>;

// R is the deduced forwarding type: `X&` keeps a reference in the frame, `X` moves the range in.
template <class R>
auto batch_range(R range, std::size_t n) -> batches_of<R> {
  std::vector<std::ranges::range_value_t<R>> batch;
  for (auto&& element : range) {
    if constexpr (batch_takes_elements<R>) {
      batch.push_back(std::move(element));
    } else {
      batch.push_back(std::forward<decltype(element)>(element));
    }
    if (batch.size() == n) {
      co_yield batch;
      batch.clear();
      // The input has filled one batch, so room for another is not speculative; the consumer
      // may have moved the buffer out.
      batch.reserve(n);
    }
  }
  if (!batch.empty()) co_yield batch;
}

// Checked before the (lazy) coroutine starts, so that misuse throws at the call.
inline void check_batch_size(std::size_t n) {
  if (n == 0) throw std::invalid_argument("pipeline::batched: n must be at least 1");
}

// The right-hand side of `range | pipeline::batched(n)`.
class batched_adaptor {
 public:
  explicit batched_adaptor(std::size_t n) : n_(n) { check_batch_size(n); }

  template <std::ranges::input_range R>
  [[nodiscard]] friend auto operator|(R&& range, batched_adaptor adaptor) -> batches_of<R> {
    return batch_range<R>(std::forward<R>(range), adaptor.n_);
  }

 private:
  std::size_t n_;
};

}  // namespace pipeline::detail
