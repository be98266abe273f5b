#pragma once

/// The contract every `pipeline::sink` keeps, as a GoogleTest typed suite you run against
/// your own sink in your own test binary (link `pipeline::testing`).
///
/// Give it a factory type:
///
///     struct my_sink_factory {
///       using sink_type = my_sink;                        // models pipeline::sink
///       static constexpr bool idempotent = true;          // rewriting a batch adds nothing
///       static constexpr bool thread_safe = true;         // write() from many threads at once
///       auto make_sink() -> std::unique_ptr<my_sink>;     // writes into a fresh, empty place
///       auto make_record(std::size_t i) -> my_row;        // distinct records for distinct i
///       auto stored() -> std::vector<my_row>;             // what that place holds now
///     };
///     INSTANTIATE_TYPED_TEST_SUITE_P(my_sink, sink_contract, ::testing::Types<my_sink_factory>);
///
/// A new factory object is made for each test. Records must be equality comparable and
/// printable by GoogleTest.

#include <cstddef>
#include <memory>
#include <span>
#include <stop_token>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pipeline/sink.hpp>
#include <pipeline/testing/detail/make_records.hpp>

namespace pipeline::testing {

template <class Factory>
class sink_contract : public ::testing::Test {
 protected:
  using sink_type = typename Factory::sink_type;
  using value_type = sink_value_t<sink_type>;
  static_assert(sink<sink_type>, "Factory::sink_type must model pipeline::sink");

  auto records(std::size_t first, std::size_t count) -> std::vector<value_type> {
    return detail::make_records(factory_, first, count);
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(sink_contract);
// A binary that includes every suite but instantiates only the ones its adapter models is fine.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(sink_contract);

TYPED_TEST_P(sink_contract, stores_every_record_of_a_batch) {
  auto sink = this->factory_.make_sink();
  auto batch = this->records(0, 100);
  ASSERT_TRUE(sink->write(std::span{std::as_const(batch)}, {}));
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(batch));
}

TYPED_TEST_P(sink_contract, empty_batch_succeeds_and_stores_nothing) {
  auto sink = this->factory_.make_sink();
  std::vector<typename TestFixture::value_type> none;
  ASSERT_TRUE(sink->write(std::span{std::as_const(none)}, {}));
  EXPECT_TRUE(this->factory_.stored().empty());
}

TYPED_TEST_P(sink_contract, batches_accumulate) {
  auto sink = this->factory_.make_sink();
  auto first = this->records(0, 10);
  auto second = this->records(10, 25);
  ASSERT_TRUE(sink->write(std::span{std::as_const(first)}, {}));
  ASSERT_TRUE(sink->write(std::span{std::as_const(second)}, {}));
  auto all = first;
  all.insert(all.end(), second.begin(), second.end());
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(all));
}

// The runner writes a batch again after a crash or an ambiguous failure: an idempotent sink
// must not store it twice, any sink must still hold every record.
TYPED_TEST_P(sink_contract, writing_a_batch_again_is_safe) {
  auto sink = this->factory_.make_sink();
  auto batch = this->records(0, 20);
  ASSERT_TRUE(sink->write(std::span{std::as_const(batch)}, {}));
  ASSERT_TRUE(sink->write(std::span{std::as_const(batch)}, {}));
  auto stored = this->factory_.stored();
  if constexpr (TypeParam::idempotent) {
    EXPECT_THAT(stored, ::testing::UnorderedElementsAreArray(batch));
  } else {
    for (const auto& r : batch) EXPECT_THAT(stored, ::testing::Contains(r));
  }
}

// A stop requested before the write either lets it finish or reports `stopped`; it never
// turns into another kind of error that the runner would retry or dead-letter.
TYPED_TEST_P(sink_contract, a_stopped_write_reports_stopped_or_completes) {
  auto sink = this->factory_.make_sink();
  auto batch = this->records(0, 5);
  std::stop_source stop;
  stop.request_stop();
  auto r = sink->write(std::span{std::as_const(batch)}, stop.get_token());
  if (r) {
    EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(batch));
  } else {
    EXPECT_EQ(r.error().kind, error_kind::stopped) << fmt::format("{}", r.error());
  }
}

TYPED_TEST_P(sink_contract, concurrent_writers_lose_nothing) {
  auto sink = this->factory_.make_sink();
  constexpr std::size_t writers = 4;
  constexpr std::size_t per_writer = 50;
  std::vector<std::vector<typename TestFixture::value_type>> batches;
  for (std::size_t w = 0; w < writers; ++w) batches.push_back(this->records(w * per_writer, per_writer));
  if constexpr (TypeParam::thread_safe) {
    std::vector<std::jthread> threads;
    std::vector<int> ok(writers, 0);
    for (std::size_t w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] { ok[w] = sink->write(std::span{std::as_const(batches[w])}, {}) ? 1 : 0; });
    }
    threads.clear();
    EXPECT_THAT(ok, ::testing::Each(1));
  } else {
    for (const auto& b : batches) ASSERT_TRUE(sink->write(std::span{b}, {}));
  }
  std::vector<typename TestFixture::value_type> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(all));
}

REGISTER_TYPED_TEST_SUITE_P(sink_contract, stores_every_record_of_a_batch, empty_batch_succeeds_and_stores_nothing,
                            batches_accumulate, writing_a_batch_again_is_safe,
                            a_stopped_write_reports_stopped_or_completes, concurrent_writers_lose_nothing);

}  // namespace pipeline::testing
