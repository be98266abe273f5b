#pragma once

#include <cstddef>
#include <iterator>  // std::ranges::input_range, without the views of <ranges>
#include <utility>
#include <vector>

#include <pipeline/detail/batch_range.hpp>
#include <pipeline/generator.hpp>

namespace pipeline {

/// Groups a range into `std::vector`s of `n` elements, the last one possibly shorter.
///
/// Returns a `generator`: lazy, single-pass, holding one batch at a time; never an empty batch.
/// An rvalue input is moved into the generator; an lvalue input is referred to and must outlive
/// it. Elements are moved into the batches when nothing else can see them again (the input is
/// single-pass, like a generator, or a container handed over as an rvalue), copied otherwise.
/// Each batch is the generator's buffer, yours to read or move out until the next `++`, which
/// clears and refills it. What the input throws reaches the consumer. Throws
/// `std::invalid_argument` at the call when `n` is 0.
///
///     for (auto&& rows : read_rows() | pipeline::batched(500)) sink.write(std::move(rows));
///     for (const auto& ids : pipeline::batched(all_ids, 100)) lookup(ids);
template <std::ranges::input_range R>
[[nodiscard]] auto batched(R&& range, std::size_t n) -> generator<std::vector<std::ranges::range_value_t<R>>> {
  detail::check_batch_size(n);
  return detail::batch_range<R>(std::forward<R>(range), n);
}

/// `range | pipeline::batched(n)` is `pipeline::batched(range, n)`.
[[nodiscard]] inline auto batched(std::size_t n) -> detail::batched_adaptor { return detail::batched_adaptor{n}; }

}  // namespace pipeline
