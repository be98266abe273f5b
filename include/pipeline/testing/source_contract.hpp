#pragma once

/// The contract every `pipeline::source` keeps, as a GoogleTest typed suite you run against
/// your own source in your own test binary (link `pipeline::testing`).
///
/// Give it a factory type:
///
///     struct my_source_factory {
///       using source_type = my_source;                      // models pipeline::source
///       // A source over exactly `count` records: make_record(0) … make_record(count - 1),
///       // read with batches smaller than `count` when count > 1.
///       auto make_source(std::size_t count) -> std::unique_ptr<my_source>;
///       auto make_record(std::size_t i) -> my_row;          // distinct records for distinct i
///     };
///     INSTANTIATE_TYPED_TEST_SUITE_P(my_source, source_contract, ::testing::Types<my_source_factory>);
///
/// Sources that model `seekable_source` are also checked for resuming from a batch's end and,
/// when they fill `batch::positions`, from each record's own position.

#include <cstddef>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pipeline/source.hpp>
#include <pipeline/testing/detail/make_records.hpp>

namespace pipeline::testing {

template <class Factory>
class source_contract : public ::testing::Test {
 protected:
  using source_type = typename Factory::source_type;
  using value_type = source_value_t<source_type>;
  static_assert(source<source_type>, "Factory::source_type must model pipeline::source");

  auto expected(std::size_t first, std::size_t last) -> std::vector<value_type> {
    return detail::make_records(factory_, first, last - first);
  }

  // Every batch until exhaustion; fails the test on an error.
  static auto drain(source_type& s) -> std::vector<batch<value_type>> {
    std::vector<batch<value_type>> out;
    for (;;) {
      auto next = s.next_batch({});
      EXPECT_TRUE(next) << fmt::format("{}", next.error());
      if (!next || !*next) return out;
      out.push_back(std::move(**next));
    }
  }

  static auto records_of(const std::vector<batch<value_type>>& batches, std::size_t from = 0)
      -> std::vector<value_type> {
    std::vector<value_type> out;
    for (std::size_t i = from; i < batches.size(); ++i) {
      out.insert(out.end(), batches[i].records.begin(), batches[i].records.end());
    }
    return out;
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(source_contract);
// A binary that includes every suite but instantiates only the ones its adapter models is fine.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(source_contract);

TYPED_TEST_P(source_contract, reads_every_record_exactly_once) {
  auto src = this->factory_.make_source(250);
  EXPECT_THAT(this->records_of(this->drain(*src)), ::testing::UnorderedElementsAreArray(this->expected(0, 250)));
}

TYPED_TEST_P(source_contract, an_empty_source_is_exhausted_at_once) {
  auto src = this->factory_.make_source(0);
  auto next = src->next_batch({});
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->has_value());
}

TYPED_TEST_P(source_contract, stays_exhausted) {
  auto src = this->factory_.make_source(3);
  (void)this->drain(*src);
  for (int i = 0; i < 3; ++i) {
    auto next = src->next_batch({});
    ASSERT_TRUE(next);
    EXPECT_FALSE(next->has_value());
  }
}

TYPED_TEST_P(source_contract, every_batch_has_records_and_an_end_position) {
  auto src = this->factory_.make_source(120);
  for (const auto& b : this->drain(*src)) {
    EXPECT_FALSE(b.empty());
    EXPECT_FALSE(b.end.empty());
  }
}

TYPED_TEST_P(source_contract, a_stopped_read_reports_stopped_or_completes) {
  auto src = this->factory_.make_source(10);
  std::stop_source stop;
  stop.request_stop();
  auto next = src->next_batch(stop.get_token());
  if (!next) EXPECT_EQ(next.error().kind, error_kind::stopped) << fmt::format("{}", next.error());
  else EXPECT_TRUE(next->has_value());
}

TYPED_TEST_P(source_contract, seeking_to_a_batch_end_resumes_after_that_batch) {
  if constexpr (seekable_source<typename TestFixture::source_type>) {
    auto src = this->factory_.make_source(200);
    auto batches = this->drain(*src);
    ASSERT_GE(batches.size(), 2u) << "make_source(200) must read in more than one batch";
    for (std::size_t k = 0; k < batches.size(); ++k) {
      ASSERT_TRUE(src->seek(batches[k].end));
      EXPECT_THAT(this->records_of(this->drain(*src)),
                  ::testing::UnorderedElementsAreArray(this->records_of(batches, k + 1)))
          << "after seeking to the end of batch " << k;
    }
  } else {
    // Not seekable: resuming is not part of this source's contract; reading still is.
    auto src = this->factory_.make_source(200);
    EXPECT_EQ(this->records_of(this->drain(*src)).size(), 200u);
  }
}

TYPED_TEST_P(source_contract, seeking_to_the_empty_position_starts_over) {
  if constexpr (seekable_source<typename TestFixture::source_type>) {
    auto src = this->factory_.make_source(50);
    (void)this->drain(*src);
    ASSERT_TRUE(src->seek(position{}));
    EXPECT_THAT(this->records_of(this->drain(*src)), ::testing::UnorderedElementsAreArray(this->expected(0, 50)));
  } else {
    auto src = this->factory_.make_source(50);
    EXPECT_EQ(this->records_of(this->drain(*src)).size(), 50u);
  }
}

// A source that gives each record its own position gives one per record, and seeking there
// reads that record next (the runner dead-letters a record with it, and a replay seeks to it).
TYPED_TEST_P(source_contract, seeking_to_a_records_own_position_reads_that_record_next) {
  auto src = this->factory_.make_source(60);
  auto batches = this->drain(*src);
  for (std::size_t k = 0; k < batches.size(); ++k) {
    const auto& b = batches[k];
    if (b.positions.empty()) continue;  // this source cannot say
    ASSERT_EQ(b.positions.size(), b.records.size()) << "batch " << k;
    if constexpr (seekable_source<typename TestFixture::source_type>) {
      for (std::size_t i = 0; i < b.records.size(); ++i) {
        ASSERT_TRUE(src->seek(b.positions[i]));
        auto next = src->next_batch({});
        ASSERT_TRUE(next) << fmt::format("{}", next.error());
        ASSERT_TRUE(next->has_value() && !(*next)->records.empty()) << "batch " << k << ", record " << i;
        EXPECT_EQ((*next)->records.front(), b.records[i]) << "batch " << k << ", record " << i;
      }
    }
  }
}

REGISTER_TYPED_TEST_SUITE_P(source_contract, reads_every_record_exactly_once, an_empty_source_is_exhausted_at_once,
                            stays_exhausted, every_batch_has_records_and_an_end_position,
                            a_stopped_read_reports_stopped_or_completes,
                            seeking_to_a_batch_end_resumes_after_that_batch,
                            seeking_to_the_empty_position_starts_over,
                            seeking_to_a_records_own_position_reads_that_record_next);

}  // namespace pipeline::testing
