#pragma once

/// The contract every `pipeline::dead_letter_store` keeps (read back with filters and pages,
/// resolve, record_failure, purge), as a GoogleTest typed suite. It takes the factory of
/// `dead_letter_sink_contract` (only `dlq_type`, `time_precision` and `make_dlq` are used):
///
///     INSTANTIATE_TYPED_TEST_SUITE_P(my_dlq, dead_letter_store_contract, ::testing::Types<my_dlq_factory>);

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>

namespace pipeline::testing {

template <class Factory>
class dead_letter_store_contract : public ::testing::Test {
 protected:
  using dlq_type = typename Factory::dlq_type;
  static_assert(dead_letter_store<dlq_type>, "Factory::dlq_type must model pipeline::dead_letter_store");

  static auto base_time() -> std::chrono::system_clock::time_point {
    return std::chrono::system_clock::time_point{std::chrono::seconds{1'790'000'000}};
  }

  // Letter i: kind alternates (invalid_input for even i), partition i % 3, job "orders" for
  // even i else "users", dead-lettered i seconds after base_time(), at position i.
  static auto letter(std::size_t i) -> dead_letter {
    return dead_letter{"payload " + std::to_string(i),
                       error{i % 2 == 0 ? error_kind::invalid_input : error_kind::permanent,
                             "refused " + std::to_string(i), static_cast<std::int64_t>(i), "test"},
                       1,
                       position::from_integer(static_cast<std::int64_t>(i)),
                       static_cast<std::uint32_t>(i % 3),
                       base_time() + std::chrono::seconds{static_cast<std::int64_t>(i)},
                       i % 2 == 0 ? "orders" : "users"};
  }

  // A store holding letters 0..count-1, written in that order.
  auto store_with(std::size_t count) -> std::unique_ptr<dlq_type> {
    auto dlq = factory_.make_dlq();
    std::vector<dead_letter> letters;
    for (std::size_t i = 0; i < count; ++i) letters.push_back(letter(i));
    EXPECT_TRUE(dlq->write(std::span{std::as_const(letters)}, {}));
    return dlq;
  }

  static auto read_all(dlq_type& dlq, const dead_letter_filter& filter = {}) -> std::vector<stored_dead_letter> {
    auto got = dlq.read(filter, std::nullopt, 1000, {});
    EXPECT_TRUE(got) << (got ? "" : got.error().message);
    return got ? std::move(*got) : std::vector<stored_dead_letter>{};
  }

  // The payload numbers read, in the order read.
  static auto numbers(const std::vector<stored_dead_letter>& read) -> std::vector<std::int64_t> {
    std::vector<std::int64_t> out;
    for (const auto& s : read) out.push_back(s.letter.pos.to_integer().value_or(-1));
    return out;
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(dead_letter_store_contract);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(dead_letter_store_contract);

TYPED_TEST_P(dead_letter_store_contract, reads_every_pending_letter_in_write_order_with_every_field) {
  auto dlq = this->store_with(5);
  const auto read = this->read_all(*dlq);
  ASSERT_EQ(this->numbers(read), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  const auto precision = std::chrono::duration_cast<std::chrono::system_clock::duration>(TypeParam::time_precision);
  for (std::size_t i = 0; i < read.size(); ++i) {
    const auto want = this->letter(i);
    const auto& got = read[i].letter;
    EXPECT_FALSE(read[i].id.empty());
    EXPECT_EQ(got.payload, want.payload);
    EXPECT_EQ(got.reason, want.reason);
    EXPECT_EQ(got.attempts, want.attempts);
    EXPECT_EQ(got.partition, want.partition);
    EXPECT_EQ(got.job, want.job);
    EXPECT_LT(got.time > want.time ? got.time - want.time : want.time - got.time, precision);
  }
}

TYPED_TEST_P(dead_letter_store_contract, pages_by_the_last_id_read) {
  auto dlq = this->store_with(7);
  std::vector<std::int64_t> seen;
  std::optional<std::string> after;
  std::size_t pages = 0;
  for (;;) {
    auto page = dlq->read({}, after, 3, {});
    ASSERT_TRUE(page) << page.error().message;
    if (page->empty()) break;
    ASSERT_LE(page->size(), 3u);
    ++pages;
    for (auto n : this->numbers(*page)) seen.push_back(n);
    after = page->back().id;
  }
  EXPECT_EQ(pages, 3u);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6}));
}

TYPED_TEST_P(dead_letter_store_contract, filters_by_kind) {
  auto dlq = this->store_with(6);
  EXPECT_EQ(this->numbers(this->read_all(*dlq, {.kind = error_kind::permanent})), (std::vector<std::int64_t>{1, 3, 5}));
  EXPECT_TRUE(this->read_all(*dlq, {.kind = error_kind::transient}).empty());
}

TYPED_TEST_P(dead_letter_store_contract, filters_by_partition) {
  auto dlq = this->store_with(6);
  EXPECT_EQ(this->numbers(this->read_all(*dlq, {.partition = 2u})), (std::vector<std::int64_t>{2, 5}));
}

TYPED_TEST_P(dead_letter_store_contract, filters_by_time_from_inclusive_to_exclusive) {
  auto dlq = this->store_with(6);
  const auto t = [&](std::int64_t s) { return this->base_time() + std::chrono::seconds{s}; };
  EXPECT_EQ(this->numbers(this->read_all(*dlq, {.from = t(2), .to = t(4)})), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(this->numbers(this->read_all(*dlq, {.from = t(4)})), (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(this->numbers(this->read_all(*dlq, {.to = t(1)})), (std::vector<std::int64_t>{0}));
}

TYPED_TEST_P(dead_letter_store_contract, filters_by_job_and_combines_filters) {
  auto dlq = this->store_with(6);
  EXPECT_EQ(this->numbers(this->read_all(*dlq, {.job = "users"})), (std::vector<std::int64_t>{1, 3, 5}));
  EXPECT_EQ(this->numbers(this->read_all(*dlq, {.partition = 0u, .job = "users"})), (std::vector<std::int64_t>{3}));
  EXPECT_TRUE(this->read_all(*dlq, {.job = "nobody"}).empty());
}

TYPED_TEST_P(dead_letter_store_contract, pages_skip_what_the_filter_leaves_out) {
  auto dlq = this->store_with(9);
  auto first = dlq->read({.job = "orders"}, std::nullopt, 2, {});
  ASSERT_TRUE(first);
  ASSERT_EQ(this->numbers(*first), (std::vector<std::int64_t>{0, 2}));
  auto second = dlq->read({.job = "orders"}, first->back().id, 2, {});
  ASSERT_TRUE(second);
  EXPECT_EQ(this->numbers(*second), (std::vector<std::int64_t>{4, 6}));
}

TYPED_TEST_P(dead_letter_store_contract, resolved_letters_are_no_longer_read) {
  auto dlq = this->store_with(4);
  const auto all = this->read_all(*dlq);
  ASSERT_EQ(all.size(), 4u);
  const std::vector<std::string> ids{all[1].id, all[2].id};
  ASSERT_TRUE(dlq->resolve(std::span{ids}, {}));
  EXPECT_EQ(this->numbers(this->read_all(*dlq)), (std::vector<std::int64_t>{0, 3}));
}

TYPED_TEST_P(dead_letter_store_contract, a_failure_raises_attempts_and_replaces_the_reason) {
  auto dlq = this->store_with(3);
  const auto all = this->read_all(*dlq);
  ASSERT_EQ(all.size(), 3u);
  const error again{error_kind::internal, "still broken", 7, "replay"};
  const std::vector<failed_replay> failures{{all[1].id, again}};
  ASSERT_TRUE(dlq->record_failure(std::span{failures}, {}));
  ASSERT_TRUE(dlq->record_failure(std::span{failures}, {}));
  const auto after = this->read_all(*dlq);
  ASSERT_EQ(this->numbers(after), (std::vector<std::int64_t>{0, 1, 2}));  // still pending
  EXPECT_EQ(after[1].letter.attempts, 3u);
  EXPECT_EQ(after[1].letter.reason, again);
  EXPECT_EQ(after[1].letter.payload, "payload 1");
  EXPECT_EQ(after[0].letter.attempts, 1u);
  EXPECT_EQ(after[0].letter.reason, this->letter(0).reason);
}

TYPED_TEST_P(dead_letter_store_contract, purge_removes_what_matches_and_counts_it) {
  auto dlq = this->store_with(6);
  auto purged = dlq->purge({.job = "orders"}, {});
  ASSERT_TRUE(purged) << purged.error().message;
  EXPECT_EQ(*purged, 3u);
  EXPECT_EQ(this->numbers(this->read_all(*dlq)), (std::vector<std::int64_t>{1, 3, 5}));
  auto by_partition = dlq->purge({.partition = 0u}, {});
  ASSERT_TRUE(by_partition);
  EXPECT_EQ(*by_partition, 1u);  // 3
  EXPECT_EQ(this->numbers(this->read_all(*dlq)), (std::vector<std::int64_t>{1, 5}));
}

TYPED_TEST_P(dead_letter_store_contract, the_same_payload_in_two_jobs_is_two_letters) {
  auto dlq = this->factory_.make_dlq();
  auto in_orders = this->letter(0);
  auto in_users = in_orders;
  in_users.job = "users";
  std::vector<dead_letter> letters{in_orders, in_users};
  ASSERT_TRUE(dlq->write(std::span{std::as_const(letters)}, {}));
  ASSERT_TRUE(dlq->write(std::span{std::as_const(letters)}, {}));  // again: still two
  const auto all = this->read_all(*dlq);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].letter.job, "orders");
  EXPECT_EQ(all[1].letter.job, "users");
}

REGISTER_TYPED_TEST_SUITE_P(dead_letter_store_contract, reads_every_pending_letter_in_write_order_with_every_field,
                            pages_by_the_last_id_read, filters_by_kind, filters_by_partition,
                            filters_by_time_from_inclusive_to_exclusive, filters_by_job_and_combines_filters,
                            pages_skip_what_the_filter_leaves_out, resolved_letters_are_no_longer_read,
                            a_failure_raises_attempts_and_replaces_the_reason,
                            purge_removes_what_matches_and_counts_it, the_same_payload_in_two_jobs_is_two_letters);

}  // namespace pipeline::testing
