// A consumer's own adapter checked with the installed contract suite.
#include <pipeline/pipeline.hpp>
#include <pipeline/testing/testing.hpp>

#include <memory>

namespace {
struct store_factory {
  using store_type = pipeline::memory_checkpoint_store;
  static auto make_store() -> std::unique_ptr<store_type> { return std::make_unique<store_type>(); }
};
}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(consumer, checkpoint_store_contract, ::testing::Types<store_factory>);
}
