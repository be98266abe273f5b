#pragma once

#include <vector>

namespace pipeline::test_support {

// Everything a batch generator yields, copied out, for comparing with an expected list.
template <class Batches>
auto collect_batches(Batches&& batches) {
  std::vector<std::remove_cvref_t<decltype(*batches.begin())>> out;
  for (auto&& b : batches) out.push_back(b);
  return out;
}

}  // namespace pipeline::test_support
