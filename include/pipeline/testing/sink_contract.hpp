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
///
/// A sink that models `pipeline::per_record_sink` also runs `per_record_sink_contract`; its
/// factory has one more member, and `make_sink` makes a sink that refuses those records:
///
///       auto make_bad_record(std::size_t i) -> my_row;    // refused by write_each, alone, for good
///     INSTANTIATE_TYPED_TEST_SUITE_P(my_sink, per_record_sink_contract, ::testing::Types<my_sink_factory>);

#include <algorithm>
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

template <class Factory>
class per_record_sink_contract : public sink_contract<Factory> {
 protected:
  using typename sink_contract<Factory>::sink_type;
  using typename sink_contract<Factory>::value_type;
  static_assert(per_record_sink<sink_type>, "Factory::sink_type must model pipeline::per_record_sink");

  // Good records 0, 1, … with the bad ones at `bad` indices; `good` gets the good ones.
  auto mixed(std::size_t size, const std::vector<std::size_t>& bad, std::vector<value_type>& good)
      -> std::vector<value_type> {
    std::vector<value_type> out;
    for (std::size_t i = 0; i < size; ++i) {
      if (std::find(bad.begin(), bad.end(), i) != bad.end()) {
        out.push_back(this->factory_.make_bad_record(i));
      } else {
        out.push_back(this->factory_.make_record(i));
        good.push_back(out.back());
      }
    }
    return out;
  }

  // The refused indices, in the order returned; each reason must be one for good.
  static auto indices(const std::vector<rejected_record>& refused) -> std::vector<std::size_t> {
    std::vector<std::size_t> out;
    for (const auto& r : refused) {
      EXPECT_TRUE(r.reason.kind == error_kind::permanent || r.reason.kind == error_kind::invalid_input)
          << "record " << r.index << ": " << fmt::format("{}", r.reason);
      out.push_back(r.index);
    }
    return out;
  }
};

TYPED_TEST_SUITE_P(per_record_sink_contract);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(per_record_sink_contract);

TYPED_TEST_P(per_record_sink_contract, refuses_exactly_the_bad_records_in_order_and_writes_the_others) {
  auto sink = this->factory_.make_sink();
  std::vector<typename TestFixture::value_type> good;
  const std::vector<std::size_t> bad{0, 3, 4, 17, 29};  // the first, neighbours, the last
  auto batch = this->mixed(30, bad, good);
  auto refused = sink->write_each(std::span{std::as_const(batch)}, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  EXPECT_EQ(this->indices(*refused), bad);
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(good));
}

TYPED_TEST_P(per_record_sink_contract, a_clean_batch_refuses_nothing) {
  auto sink = this->factory_.make_sink();
  auto batch = this->records(0, 40);
  auto refused = sink->write_each(std::span{std::as_const(batch)}, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  EXPECT_TRUE(refused->empty());
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(batch));
}

TYPED_TEST_P(per_record_sink_contract, an_empty_batch_refuses_nothing) {
  auto sink = this->factory_.make_sink();
  std::vector<typename TestFixture::value_type> none;
  auto refused = sink->write_each(std::span{std::as_const(none)}, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  EXPECT_TRUE(refused->empty());
  EXPECT_TRUE(this->factory_.stored().empty());
}

TYPED_TEST_P(per_record_sink_contract, a_batch_of_bad_records_refuses_each_and_stores_nothing) {
  auto sink = this->factory_.make_sink();
  std::vector<typename TestFixture::value_type> good;
  const std::vector<std::size_t> bad{0, 1, 2, 3, 4};
  auto batch = this->mixed(5, bad, good);
  auto refused = sink->write_each(std::span{std::as_const(batch)}, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  EXPECT_EQ(this->indices(*refused), bad);
  EXPECT_TRUE(this->factory_.stored().empty());
}

// The runner writes a batch again after a crash: the bad records are refused again, and an
// idempotent sink still holds each good one once.
TYPED_TEST_P(per_record_sink_contract, writing_a_batch_again_refuses_the_same_records) {
  auto sink = this->factory_.make_sink();
  std::vector<typename TestFixture::value_type> good;
  const std::vector<std::size_t> bad{2, 5};
  auto batch = this->mixed(8, bad, good);
  for (int pass = 0; pass < 2; ++pass) {
    auto refused = sink->write_each(std::span{std::as_const(batch)}, {});
    ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
    EXPECT_EQ(this->indices(*refused), bad) << "pass " << pass;
  }
  auto stored = this->factory_.stored();
  if constexpr (TypeParam::idempotent) {
    EXPECT_THAT(stored, ::testing::UnorderedElementsAreArray(good));
  } else {
    for (const auto& r : good) EXPECT_THAT(stored, ::testing::Contains(r));
    EXPECT_EQ(stored.size(), 2 * good.size());
  }
}

TYPED_TEST_P(per_record_sink_contract, a_stopped_write_each_reports_stopped_or_completes) {
  auto sink = this->factory_.make_sink();
  auto batch = this->records(0, 5);
  std::stop_source stop;
  stop.request_stop();
  auto refused = sink->write_each(std::span{std::as_const(batch)}, stop.get_token());
  if (refused) {
    EXPECT_TRUE(refused->empty());
    EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(batch));
  } else {
    EXPECT_EQ(refused.error().kind, error_kind::stopped) << fmt::format("{}", refused.error());
    EXPECT_TRUE(this->factory_.stored().empty());
  }
}

TYPED_TEST_P(per_record_sink_contract, concurrent_writers_refuse_their_own_bad_records) {
  auto sink = this->factory_.make_sink();
  constexpr std::size_t writers = 4;
  constexpr std::size_t per_writer = 20;
  std::vector<typename TestFixture::value_type> good;
  std::vector<std::vector<typename TestFixture::value_type>> batches;
  for (std::size_t w = 0; w < writers; ++w) {
    std::vector<typename TestFixture::value_type> b;
    for (std::size_t i = w * per_writer; i < (w + 1) * per_writer; ++i) {
      b.push_back(i % 7 == 3 ? this->factory_.make_bad_record(i) : this->factory_.make_record(i));
      if (i % 7 != 3) good.push_back(b.back());
    }
    batches.push_back(std::move(b));
  }
  std::vector<std::vector<std::size_t>> refused(writers);
  const auto write = [&](std::size_t w) {
    auto r = sink->write_each(std::span{std::as_const(batches[w])}, {});
    EXPECT_TRUE(r) << fmt::format("{}", r.error());
    if (r) refused[w] = TestFixture::indices(*r);
  };
  if constexpr (TypeParam::thread_safe) {
    std::vector<std::jthread> threads;
    for (std::size_t w = 0; w < writers; ++w) threads.emplace_back(write, w);
  } else {
    for (std::size_t w = 0; w < writers; ++w) write(w);
  }
  for (std::size_t w = 0; w < writers; ++w) {
    std::vector<std::size_t> want;
    for (std::size_t i = 0; i < per_writer; ++i) {
      if ((w * per_writer + i) % 7 == 3) want.push_back(i);
    }
    EXPECT_EQ(refused[w], want) << "writer " << w;
  }
  EXPECT_THAT(this->factory_.stored(), ::testing::UnorderedElementsAreArray(good));
}

REGISTER_TYPED_TEST_SUITE_P(per_record_sink_contract, refuses_exactly_the_bad_records_in_order_and_writes_the_others,
                            a_clean_batch_refuses_nothing, an_empty_batch_refuses_nothing,
                            a_batch_of_bad_records_refuses_each_and_stores_nothing,
                            writing_a_batch_again_refuses_the_same_records,
                            a_stopped_write_each_reports_stopped_or_completes,
                            concurrent_writers_refuse_their_own_bad_records);

}  // namespace pipeline::testing
