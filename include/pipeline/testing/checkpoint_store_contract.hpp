#pragma once

/// The contract every `pipeline::checkpoint_store` keeps, as a GoogleTest typed suite you
/// run against your own store in your own test binary (link `pipeline::testing`).
///
///     struct my_store_factory {
///       using store_type = my_store;                         // models checkpoint_store
///       auto make_store() -> std::unique_ptr<my_store>;      // an empty store
///     };
///     INSTANTIATE_TYPED_TEST_SUITE_P(my_store, checkpoint_store_contract,
///                                    ::testing::Types<my_store_factory>);

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <pipeline/checkpoint.hpp>

namespace pipeline::testing {

template <class Factory>
class checkpoint_store_contract : public ::testing::Test {
 protected:
  using store_type = typename Factory::store_type;
  static_assert(checkpoint_store<store_type>, "Factory::store_type must model pipeline::checkpoint_store");
  Factory factory_;
};

TYPED_TEST_SUITE_P(checkpoint_store_contract);
// A binary that includes every suite but instantiates only the ones its adapter models is fine.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(checkpoint_store_contract);

TYPED_TEST_P(checkpoint_store_contract, a_missing_key_loads_as_version_zero_at_the_beginning) {
  auto store = this->factory_.make_store();
  auto cp = store->load("never-saved");
  ASSERT_TRUE(cp) << fmt::format("{}", cp.error());
  EXPECT_EQ(cp->version, 0u);
  EXPECT_TRUE(cp->pos.empty());
}

TYPED_TEST_P(checkpoint_store_contract, a_saved_position_loads_back_with_the_new_version) {
  auto store = this->factory_.make_store();
  auto v = store->save("orders", position::from_integer(42), 0);
  ASSERT_TRUE(v) << fmt::format("{}", v.error());
  EXPECT_EQ(*v, 1u);
  auto cp = store->load("orders");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->pos, position::from_integer(42));
  EXPECT_EQ(cp->version, 1u);
}

TYPED_TEST_P(checkpoint_store_contract, each_save_increments_the_version) {
  auto store = this->factory_.make_store();
  std::uint64_t version = 0;
  for (std::int64_t i = 1; i <= 5; ++i) {
    auto v = store->save("k", position::from_integer(i * 100), version);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, version + 1);
    version = *v;
  }
  EXPECT_EQ(store->load("k")->pos, position::from_integer(500));
}

TYPED_TEST_P(checkpoint_store_contract, a_stale_version_is_a_conflict_and_changes_nothing) {
  auto store = this->factory_.make_store();
  ASSERT_TRUE(store->save("k", position::from_integer(1), 0));
  ASSERT_TRUE(store->save("k", position::from_integer(2), 1));
  auto stale = store->save("k", position::from_integer(-1), 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, error_kind::conflict);
  auto cp = store->load("k");
  EXPECT_EQ(cp->pos, position::from_integer(2));
  EXPECT_EQ(cp->version, 2u);
}

TYPED_TEST_P(checkpoint_store_contract, saving_a_new_key_with_a_nonzero_version_is_a_conflict) {
  auto store = this->factory_.make_store();
  auto r = store->save("fresh", position::from_integer(1), 3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::conflict);
  EXPECT_EQ(store->load("fresh")->version, 0u);
}

TYPED_TEST_P(checkpoint_store_contract, keys_are_independent) {
  auto store = this->factory_.make_store();
  ASSERT_TRUE(store->save("orders/p0", position::from_integer(10), 0));
  ASSERT_TRUE(store->save("orders/p1", position::from_integer(20), 0));
  EXPECT_EQ(store->load("orders/p0")->pos, position::from_integer(10));
  EXPECT_EQ(store->load("orders/p1")->pos, position::from_integer(20));
}

TYPED_TEST_P(checkpoint_store_contract, positions_are_kept_byte_for_byte) {
  auto store = this->factory_.make_store();
  using namespace std::string_view_literals;  // keeps the embedded NUL
  std::string bytes{"key\0with\nnul\xff and quotes '\""sv};
  bytes.append(1000, 'x');
  bytes.push_back('\0');
  ASSERT_TRUE(store->save("binary", position{bytes}, 0));
  EXPECT_EQ(store->load("binary")->pos.bytes(), bytes);
}

// Two processes resuming the same partition: exactly one may move the checkpoint.
TYPED_TEST_P(checkpoint_store_contract, of_concurrent_savers_with_one_version_exactly_one_wins) {
  auto store = this->factory_.make_store();
  ASSERT_TRUE(store->save("race", position::from_integer(0), 0));
  constexpr int savers = 8;
  std::atomic<int> winners{0};
  std::atomic<int> conflicts{0};
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < savers; ++i) {
      threads.emplace_back([&, i] {
        auto r = store->save("race", position::from_integer(i + 1), 1);
        if (r) ++winners;
        else if (r.error().kind == error_kind::conflict) ++conflicts;
      });
    }
  }
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(conflicts.load(), savers - 1);
  EXPECT_EQ(store->load("race")->version, 2u);
}

REGISTER_TYPED_TEST_SUITE_P(checkpoint_store_contract, a_missing_key_loads_as_version_zero_at_the_beginning,
                            a_saved_position_loads_back_with_the_new_version, each_save_increments_the_version,
                            a_stale_version_is_a_conflict_and_changes_nothing,
                            saving_a_new_key_with_a_nonzero_version_is_a_conflict, keys_are_independent,
                            positions_are_kept_byte_for_byte, of_concurrent_savers_with_one_version_exactly_one_wins);

}  // namespace pipeline::testing
