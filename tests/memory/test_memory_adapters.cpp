#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/memory/vector_source.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <vector>

// The memory adapters model the concepts; checked here rather than in their headers, where
// every user file would instantiate them.
static_assert(pipeline::per_record_sink<pipeline::memory_sink<int>>);
static_assert(pipeline::seekable_source<pipeline::vector_source<int>>);

namespace {

using ::testing::ElementsAre;

TEST(vector_source, batch_size_zero_throws_naming_the_argument) {
  try {
    pipeline::vector_source<int> src{{1, 2}, 0};
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("batch_size"));
  }
}

TEST(vector_source, positions_count_the_records_consumed) {
  pipeline::vector_source<int> src{{1, 2, 3, 4, 5}, 2};
  std::vector<std::int64_t> ends;
  while (auto b = src.next_batch({})) {
    if (!*b) break;
    ends.push_back(*(*b)->end.to_integer());
  }
  EXPECT_THAT(ends, ElementsAre(2, 4, 5));
}

TEST(vector_source, a_position_it_did_not_make_is_invalid_input) {
  pipeline::vector_source<int> src{{1, 2, 3}, 2};
  for (const auto* bad : {"abc", "-1", "4"}) {
    auto r = src.seek(pipeline::position{bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  }
}

TEST(memory_sink, a_failure_rule_fails_the_whole_batch_and_stores_none_of_it) {
  pipeline::memory_sink<int> sink;
  sink.fail_records([](const int& v) -> std::optional<pipeline::error> {
    if (v < 0) return pipeline::permanent_error("negative");
    return std::nullopt;
  });
  std::vector<int> batch{1, -2, 3};
  auto r = sink.write(std::span{std::as_const(batch)}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_TRUE(sink.records().empty());
  std::vector<int> good{1, 3};
  EXPECT_TRUE(sink.write(std::span{std::as_const(good)}, {}));
  EXPECT_THAT(sink.records(), ElementsAre(1, 3));
}

TEST(memory_sink, a_scheduled_outage_fails_exactly_that_many_writes) {
  pipeline::memory_sink<int> sink;
  sink.fail_next_writes(2, pipeline::transient_error("connection lost"));
  std::vector<int> batch{7};
  EXPECT_FALSE(sink.write(std::span{std::as_const(batch)}, {}));
  EXPECT_FALSE(sink.write(std::span{std::as_const(batch)}, {}));
  EXPECT_TRUE(sink.write(std::span{std::as_const(batch)}, {}));
  EXPECT_THAT(sink.records(), ElementsAre(7));
  EXPECT_EQ(sink.write_calls(), 3u);
}

TEST(memory_sink, write_each_refuses_the_records_the_rule_rejects_and_stores_the_others) {
  pipeline::memory_sink<int> sink;
  sink.fail_records([](const int& v) -> std::optional<pipeline::error> {
    if (v < 0) return pipeline::permanent_error("negative");
    return std::nullopt;
  });
  std::vector<int> batch{1, -2, 3, -4};
  auto refused = sink.write_each(std::span{std::as_const(batch)}, {});
  ASSERT_TRUE(refused);
  EXPECT_THAT(*refused, ElementsAre(pipeline::rejected_record{1, pipeline::permanent_error("negative")},
                                    pipeline::rejected_record{3, pipeline::permanent_error("negative")}));
  EXPECT_THAT(sink.records(), ElementsAre(1, 3));
}

TEST(memory_sink, a_scheduled_outage_fails_a_whole_write_each_and_stores_none_of_it) {
  pipeline::memory_sink<int> sink;
  sink.fail_next_writes(1, pipeline::transient_error("connection lost"));
  std::vector<int> batch{1, 2};
  auto refused = sink.write_each(std::span{std::as_const(batch)}, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), pipeline::transient_error("connection lost"));
  EXPECT_TRUE(sink.records().empty());
  EXPECT_EQ(sink.write_calls(), 1u);
}

TEST(memory_dlq, a_scheduled_outage_stores_nothing) {
  pipeline::memory_dlq dlq;
  dlq.fail_next_writes(1, pipeline::transient_error("disk full"));
  std::vector<pipeline::dead_letter> one{{"x", pipeline::permanent_error("bad"), 1, {}, 0, {}}};
  auto r = dlq.write(std::span{std::as_const(one)}, {});
  ASSERT_FALSE(r);
  EXPECT_TRUE(dlq.entries().empty());
  EXPECT_TRUE(dlq.write(std::span{std::as_const(one)}, {}));
  EXPECT_EQ(dlq.entries().size(), 1u);
}

}  // namespace
