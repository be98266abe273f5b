#pragma once

/// The contract every `pipeline::dead_letter_sink` keeps, as a GoogleTest typed suite you
/// run against your own DLQ in your own test binary (link `pipeline::testing`).
///
///     struct my_dlq_factory {
///       using dlq_type = my_dlq;                               // models dead_letter_sink
///       static constexpr auto time_precision = std::chrono::milliseconds{1};  // what it keeps
///       auto make_dlq() -> std::unique_ptr<my_dlq>;            // writes into a fresh place
///       auto stored() -> std::vector<pipeline::dead_letter>;   // what that place holds now
///     };
///     INSTANTIATE_TYPED_TEST_SUITE_P(my_dlq, dead_letter_sink_contract, ::testing::Types<my_dlq_factory>);
///
/// A DLQ stores each letter once: the identity is `detail::dead_letter_fingerprints`'
/// (partition, position, payload, and the count of equal ones before it in the call).

#include <algorithm>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <pipeline/dead_letter.hpp>

namespace pipeline::testing {

template <class Factory>
class dead_letter_sink_contract : public ::testing::Test {
 protected:
  using dlq_type = typename Factory::dlq_type;
  static_assert(dead_letter_sink<dlq_type>, "Factory::dlq_type must model pipeline::dead_letter_sink");

  static auto letter(std::size_t i) -> dead_letter {
    const auto when = std::chrono::system_clock::time_point{std::chrono::seconds{1'790'000'000}} +
                      std::chrono::milliseconds{static_cast<std::int64_t>(i)};
    return dead_letter{"payload " + std::to_string(i),
                       error{error_kind::permanent, "bad value for column 'price' at row " + std::to_string(i),
                             1366, "mysql"},
                       static_cast<std::uint32_t>(i % 4),
                       position::from_integer(static_cast<std::int64_t>(i)),
                       static_cast<std::uint32_t>(i % 3),
                       when};
  }

  // Compares every field, time at the precision the store keeps.
  static void expect_same(const dead_letter& got, const dead_letter& want) {
    EXPECT_EQ(got.payload, want.payload);
    EXPECT_EQ(got.reason.kind, want.reason.kind);
    EXPECT_EQ(got.reason.message, want.reason.message);
    EXPECT_EQ(got.reason.native_code, want.reason.native_code);
    EXPECT_EQ(got.reason.backend, want.reason.backend);
    EXPECT_EQ(got.attempts, want.attempts);
    EXPECT_EQ(got.pos, want.pos);
    EXPECT_EQ(got.partition, want.partition);
    const auto precision = std::chrono::duration_cast<std::chrono::system_clock::duration>(Factory::time_precision);
    EXPECT_LT(got.time > want.time ? got.time - want.time : want.time - got.time, precision);
  }

  // Entries in the order of their payload number, so that stores that do not keep write
  // order compare the same.
  auto stored_sorted() -> std::vector<dead_letter> {
    auto all = factory_.stored();
    std::sort(all.begin(), all.end(), [](const dead_letter& a, const dead_letter& b) { return a.pos.to_integer() < b.pos.to_integer(); });
    return all;
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(dead_letter_sink_contract);
// A binary that includes every suite but instantiates only the ones its adapter models is fine.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(dead_letter_sink_contract);

TYPED_TEST_P(dead_letter_sink_contract, keeps_every_field_of_every_entry) {
  auto dlq = this->factory_.make_dlq();
  std::vector<dead_letter> letters{this->letter(0), this->letter(1), this->letter(2)};
  ASSERT_TRUE(dlq->write(std::span{std::as_const(letters)}, {}));
  auto stored = this->stored_sorted();
  ASSERT_EQ(stored.size(), letters.size());
  for (std::size_t i = 0; i < letters.size(); ++i) this->expect_same(stored[i], letters[i]);
}

TYPED_TEST_P(dead_letter_sink_contract, keeps_binary_payloads_byte_for_byte) {
  auto dlq = this->factory_.make_dlq();
  auto l = this->letter(7);
  using namespace std::string_view_literals;  // the literal's length, embedded NUL included
  l.payload = std::string("\0\x01\xff\n\"quoted\" 'single' \\ end"sv);
  l.payload.append(4096, '\x80');
  std::vector<dead_letter> letters{l};
  ASSERT_TRUE(dlq->write(std::span{std::as_const(letters)}, {}));
  auto stored = this->stored_sorted();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].payload, l.payload);
}

TYPED_TEST_P(dead_letter_sink_contract, writes_accumulate) {
  auto dlq = this->factory_.make_dlq();
  for (std::size_t i = 0; i < 5; ++i) {
    std::vector<dead_letter> one{this->letter(i)};
    ASSERT_TRUE(dlq->write(std::span{std::as_const(one)}, {}));
  }
  EXPECT_EQ(this->factory_.stored().size(), 5u);
}

TYPED_TEST_P(dead_letter_sink_contract, concurrent_writers_lose_nothing) {
  auto dlq = this->factory_.make_dlq();
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t i = 0; i < 10; ++i) {
          std::vector<dead_letter> one{TestFixture::letter(t * 10 + i)};
          EXPECT_TRUE(dlq->write(std::span{std::as_const(one)}, {}));
        }
      });
    }
  }
  auto stored = this->stored_sorted();
  ASSERT_EQ(stored.size(), 40u);
  for (std::size_t i = 0; i < 40; ++i) EXPECT_EQ(stored[i].pos, position::from_integer(static_cast<std::int64_t>(i)));
}

// The runner dead-letters a batch again after a crash: the same letters (by partition,
// position and payload), dead-lettered at another time, perhaps after more attempts.
TYPED_TEST_P(dead_letter_sink_contract, writing_the_same_letters_again_stores_nothing_new) {
  auto dlq = this->factory_.make_dlq();
  std::vector<dead_letter> letters;
  for (std::size_t i = 0; i < 6; ++i) letters.push_back(this->letter(i));
  ASSERT_TRUE(dlq->write(std::span{std::as_const(letters)}, {}));
  auto again = letters;
  for (auto& l : again) {
    l.time += std::chrono::hours{1};
    l.attempts += 1;
  }
  ASSERT_TRUE(dlq->write(std::span{std::as_const(again)}, {}));
  ASSERT_TRUE(dlq->write(std::span{std::as_const(letters)}, {}));
  auto stored = this->stored_sorted();
  ASSERT_EQ(stored.size(), letters.size());
  for (std::size_t i = 0; i < letters.size(); ++i) this->expect_same(stored[i], letters[i]);  // the first kept
}

// A rerun may cut the same records into other batches: each letter is still stored once.
TYPED_TEST_P(dead_letter_sink_contract, the_same_letters_split_over_other_calls_are_stored_once) {
  auto dlq = this->factory_.make_dlq();
  const auto range = [&](std::size_t first, std::size_t last) {
    std::vector<dead_letter> out;
    for (std::size_t i = first; i < last; ++i) out.push_back(this->letter(i));
    return out;
  };
  const auto write = [&](const std::vector<dead_letter>& letters) {
    ASSERT_TRUE(dlq->write(std::span{letters}, {}));
  };
  write(range(0, 10));
  write(range(0, 3));
  write(range(3, 8));
  write(range(8, 13));  // 10, 11 and 12 are new
  write(range(5, 6));
  auto stored = this->stored_sorted();
  ASSERT_EQ(stored.size(), 13u);
  for (std::size_t i = 0; i < 13; ++i) EXPECT_EQ(stored[i].pos, position::from_integer(static_cast<std::int64_t>(i)));
}

// Equal records are distinct letters when they come from different positions, and when one
// call holds several at one position (a source that gives only its batches' end).
TYPED_TEST_P(dead_letter_sink_contract, equal_records_at_different_positions_stay_distinct) {
  auto dlq = this->factory_.make_dlq();
  auto at_one = this->letter(1);
  auto at_two = at_one;
  at_two.pos = position::from_integer(2);
  std::vector<dead_letter> first{at_one};
  std::vector<dead_letter> second{at_two};
  ASSERT_TRUE(dlq->write(std::span{std::as_const(first)}, {}));
  ASSERT_TRUE(dlq->write(std::span{std::as_const(second)}, {}));
  auto twice_at_three = this->letter(3);
  std::vector<dead_letter> pair{twice_at_three, twice_at_three};
  ASSERT_TRUE(dlq->write(std::span{std::as_const(pair)}, {}));
  ASSERT_TRUE(dlq->write(std::span{std::as_const(pair)}, {}));  // again: still two
  auto stored = this->stored_sorted();
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[0].pos, position::from_integer(1));
  EXPECT_EQ(stored[1].pos, position::from_integer(2));
  EXPECT_EQ(stored[1].payload, at_one.payload);
  EXPECT_EQ(stored[2].pos, position::from_integer(3));
  EXPECT_EQ(stored[3].pos, position::from_integer(3));
}

REGISTER_TYPED_TEST_SUITE_P(dead_letter_sink_contract, keeps_every_field_of_every_entry,
                            keeps_binary_payloads_byte_for_byte, writes_accumulate, concurrent_writers_lose_nothing,
                            writing_the_same_letters_again_stores_nothing_new,
                            the_same_letters_split_over_other_calls_are_stored_once,
                            equal_records_at_different_positions_stay_distinct);

}  // namespace pipeline::testing
