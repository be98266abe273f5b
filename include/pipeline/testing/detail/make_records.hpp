#pragma once

#include <cstddef>
#include <vector>

namespace pipeline::testing::detail {

// The records a contract test writes or expects: factory.make_record(first) … (first + count - 1).
template <class Factory>
auto make_records(Factory& factory, std::size_t first, std::size_t count) {
  std::vector<decltype(factory.make_record(first))> out;
  out.reserve(count);
  for (std::size_t i = first; i < first + count; ++i) out.push_back(factory.make_record(i));
  return out;
}

}  // namespace pipeline::testing::detail
