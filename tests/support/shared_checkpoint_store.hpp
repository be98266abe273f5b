#pragma once

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include <pipeline/basic_checkpoint_store.hpp>

namespace pipeline::test {

// Every adapter's checkpoint store is a `basic_checkpoint_store`: held as that, a copy is the
// same store. Saves `key` (new to `store`) through a copy and finds it through `store`.
inline void expect_copies_share_one_store(basic_checkpoint_store store, const std::string& key) {
  auto copy = store;
  ASSERT_EQ(copy.save(key, position::from_integer(1), 0).value(), 1U);
  EXPECT_EQ(store.load(key).value(), (checkpoint{position::from_integer(1), 1}));
  auto stale = store.save(key, position::from_integer(2), 0);  // the copy moved it on
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, error_kind::conflict);
  const auto keys = store.keys().value();
  EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end());
}

}  // namespace pipeline::test
