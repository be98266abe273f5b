#include <pipeline/batch.hpp>
#include <pipeline/position.hpp>

#include <gtest/gtest.h>

#include <limits>

namespace {

TEST(position, integers_round_trip_including_extremes) {
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{41999},
                         std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    EXPECT_EQ(pipeline::position::from_integer(v).to_integer(), v);
  }
}

TEST(position, non_integer_bytes_are_not_an_integer) {
  EXPECT_FALSE(pipeline::position{"1-0"}.to_integer());
  EXPECT_FALSE(pipeline::position{"12 "}.to_integer());
  EXPECT_FALSE(pipeline::position{}.to_integer());
}

TEST(position, empty_means_the_beginning) {
  EXPECT_TRUE(pipeline::position{}.empty());
  EXPECT_FALSE(pipeline::position::from_integer(0).empty());
}

TEST(batch, carries_records_end_sequence_and_partition) {
  pipeline::batch<int> b{{1, 2, 3}, pipeline::position::from_integer(3), {}, 7, 2, {}};
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.end.to_integer(), 3);
  EXPECT_EQ(b.sequence, 7u);
  EXPECT_EQ(b.partition, 2u);
}

}  // namespace
