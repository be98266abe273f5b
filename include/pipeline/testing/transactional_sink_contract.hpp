#pragma once

/// The contract every `pipeline::transactional_sink` keeps (exactly-once mode, docs/runner.md),
/// as a GoogleTest typed suite you run against your own sink (link `pipeline::testing`).
///
/// Give it a factory type:
///
///     struct my_sink_factory {
///       using sink_type = my_sink;                        // models pipeline::transactional_sink
///       auto make_sink() -> std::unique_ptr<my_sink>;     // writes into a fresh, empty place
///       auto make_record(std::size_t i) -> my_row;        // distinct records for distinct i
///       auto stored() -> std::vector<my_row>;             // the records that place holds now
///     };
///     INSTANTIATE_TYPED_TEST_SUITE_P(my_sink, transactional_sink_contract, ::testing::Types<my_sink_factory>);
///
/// A new factory object is made for each test. Records must be equality comparable and printable by GoogleTest.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pipeline/position.hpp>
#include <pipeline/transactional_sink.hpp>
#include <pipeline/testing/detail/make_records.hpp>

namespace pipeline::testing {

template <class Factory>
class transactional_sink_contract : public ::testing::Test {
 protected:
  using sink_type = typename Factory::sink_type;
  using value_type = sink_value_t<sink_type>;
  static_assert(transactional_sink<sink_type>, "Factory::sink_type must model pipeline::transactional_sink");

  auto records(std::size_t first, std::size_t count) -> std::vector<value_type> {
    return detail::make_records(factory_, first, count);
  }
  static auto entry(std::string job, std::uint64_t run, std::uint64_t sequence, std::uint64_t slice = 0)
      -> committed_batch {
    const auto from = static_cast<std::int64_t>(run * 1'000'000 + sequence * 1'000 + slice);
    return committed_batch{std::move(job), 3, run, sequence, slice, position::from_integer(from),
                           position::from_integer(from + 1)};
  }
  // (run, sequence, slice) of each entry of `job`, sorted.
  static auto marks(sink_type& sink, std::string_view job) -> std::vector<std::string> {
    auto listed = sink.committed_batches(job, {});
    EXPECT_TRUE(listed) << fmt::format("{}", listed.error());
    std::vector<std::string> out;
    if (!listed) return out;
    for (const auto& e : *listed) out.push_back(fmt::format("{}/{}/{}", e.run, e.sequence, e.slice));
    std::sort(out.begin(), out.end());
    return out;
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(transactional_sink_contract);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(transactional_sink_contract);

TYPED_TEST_P(transactional_sink_contract, commits_the_records_with_their_entry) {
  auto sink = this->factory_.make_sink();
  auto batch = this->records(0, 50);
  const auto e = TestFixture::entry("job", 1, 0);
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(batch)}, e, {}));
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(batch));
  auto listed = sink->committed_batches("job", {});
  ASSERT_TRUE(listed);
  EXPECT_THAT(*listed, ::testing::ElementsAre(e));  // every field back, byte for byte
}

TYPED_TEST_P(transactional_sink_contract, an_entry_committed_already_writes_nothing) {
  auto sink = this->factory_.make_sink();
  auto batch = this->records(0, 20);
  const auto e = TestFixture::entry("job", 1, 7);
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(batch)}, e, {}));
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(batch)}, e, {}));  // a retry after a lost reply
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(batch));
  EXPECT_THAT(TestFixture::marks(*sink, "job"), ::testing::ElementsAre("1/7/0"));
}

TYPED_TEST_P(transactional_sink_contract, the_same_identity_with_other_positions_is_a_conflict) {
  auto sink = this->factory_.make_sink();
  auto first = this->records(0, 5);
  auto second = this->records(5, 5);
  auto e = TestFixture::entry("job", 1, 2);
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(first)}, e, {}));
  e.end = position::from_integer(999'999'999);  // another runner's batch 2 of "its" run 1
  auto r = sink->write_committed(std::span{std::as_const(second)}, e, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::conflict) << fmt::format("{}", r.error());
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(first));
}

TYPED_TEST_P(transactional_sink_contract, slices_of_one_batch_are_entries_of_their_own) {
  auto sink = this->factory_.make_sink();
  auto first = this->records(0, 5);
  auto second = this->records(5, 5);
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(first)}, TestFixture::entry("job", 1, 4, 0), {}));
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(second)}, TestFixture::entry("job", 1, 4, 5), {}));
  EXPECT_EQ(this->factory_.stored().size(), 10U);
  EXPECT_THAT(TestFixture::marks(*sink, "job"), ::testing::ElementsAre("1/4/0", "1/4/5"));
}

TYPED_TEST_P(transactional_sink_contract, an_empty_batch_commits_its_entry) {
  auto sink = this->factory_.make_sink();
  std::vector<typename TestFixture::value_type> none;
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(none)}, TestFixture::entry("job", 2, 0), {}));
  EXPECT_TRUE(this->factory_.stored().empty());
  EXPECT_THAT(TestFixture::marks(*sink, "job"), ::testing::ElementsAre("2/0/0"));
}

TYPED_TEST_P(transactional_sink_contract, jobs_are_kept_apart) {
  auto sink = this->factory_.make_sink();
  auto a = this->records(0, 3);
  auto b = this->records(3, 3);
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(a)}, TestFixture::entry("a", 1, 0), {}));
  ASSERT_TRUE(sink->write_committed(std::span{std::as_const(b)}, TestFixture::entry("b", 1, 0), {}));
  ASSERT_TRUE(sink->forget_batches("a", 9, 9, {}));
  EXPECT_TRUE(TestFixture::marks(*sink, "a").empty());
  EXPECT_THAT(TestFixture::marks(*sink, "b"), ::testing::ElementsAre("1/0/0"));
  EXPECT_TRUE(TestFixture::marks(*sink, "nobody").empty());
}

TYPED_TEST_P(transactional_sink_contract, forget_removes_the_entries_at_or_below_the_mark) {
  auto sink = this->factory_.make_sink();
  std::vector<typename TestFixture::value_type> none;
  for (const auto& [run, sequence] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
           {1, 0}, {1, 9}, {2, 0}, {2, 1}, {2, 2}, {3, 0}}) {
    ASSERT_TRUE(sink->write_committed(std::span{std::as_const(none)}, TestFixture::entry("job", run, sequence), {}));
  }
  ASSERT_TRUE(sink->forget_batches("job", 2, 1, {}));
  EXPECT_THAT(TestFixture::marks(*sink, "job"), ::testing::ElementsAre("2/2/0", "3/0/0"));
}

TYPED_TEST_P(transactional_sink_contract, a_stopped_write_commits_nothing_or_everything) {
  auto sink = this->factory_.make_sink();
  auto batch = this->records(0, 10);
  std::stop_source stop;
  stop.request_stop();
  auto r = sink->write_committed(std::span{std::as_const(batch)}, TestFixture::entry("job", 1, 0), stop.get_token());
  const auto stored = this->factory_.stored().size();
  const auto entries = TestFixture::marks(*sink, "job").size();
  if (r) {
    EXPECT_EQ(stored, 10U);
    EXPECT_EQ(entries, 1U);
  } else {
    EXPECT_EQ(r.error().kind, error_kind::stopped) << fmt::format("{}", r.error());
    EXPECT_EQ(stored, 0U);
    EXPECT_EQ(entries, 0U);
  }
}

TYPED_TEST_P(transactional_sink_contract, concurrent_writers_lose_nothing) {
  auto sink = this->factory_.make_sink();
  constexpr std::size_t writers = 8;
  constexpr std::size_t per_batch = 25;
  std::vector<std::vector<typename TestFixture::value_type>> batches;
  for (std::size_t w = 0; w < writers; ++w) batches.push_back(this->records(w * per_batch, per_batch));
  {
    std::vector<std::jthread> threads;
    for (std::size_t w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        EXPECT_TRUE(sink->write_committed(std::span{std::as_const(batches[w])}, TestFixture::entry("job", 1, w), {}));
      });
    }
  }
  EXPECT_EQ(this->factory_.stored().size(), writers * per_batch);
  EXPECT_EQ(TestFixture::marks(*sink, "job").size(), writers);
}

REGISTER_TYPED_TEST_SUITE_P(transactional_sink_contract, commits_the_records_with_their_entry,
                            an_entry_committed_already_writes_nothing,
                            the_same_identity_with_other_positions_is_a_conflict,
                            slices_of_one_batch_are_entries_of_their_own,
                            an_empty_batch_commits_its_entry, jobs_are_kept_apart,
                            forget_removes_the_entries_at_or_below_the_mark,
                            a_stopped_write_commits_nothing_or_everything, concurrent_writers_lose_nothing);

}  // namespace pipeline::testing
