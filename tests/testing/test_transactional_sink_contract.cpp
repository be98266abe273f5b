// The example transactional sink of docs/custom-adapters.md (tests/support/ledger_sink.hpp)
// passes the contract suite every transactional sink runs.
#include <pipeline/testing/testing.hpp>

#include <memory>
#include <vector>

#include "support/ledger_sink.hpp"

namespace {

struct ledger_sink_factory {
  using sink_type = test_support::ledger_sink<int>;
  auto make_sink() -> std::unique_ptr<sink_type> {
    auto made = std::make_unique<sink_type>();
    last_ = made.get();
    return made;
  }
  static auto make_record(std::size_t i) -> int { return static_cast<int>(i); }
  auto stored() -> std::vector<int> { return last_->records(); }

 private:
  sink_type* last_ = nullptr;
};

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(ledger_sink, transactional_sink_contract, ::testing::Types<ledger_sink_factory>);
}  // namespace pipeline::testing
