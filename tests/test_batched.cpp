#include <pipeline/batched.hpp>

#include <gtest/gtest.h>

#include "support/collect.hpp"

#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/std_views.hpp"

namespace {

using pipeline::generator;
using int_batches = std::vector<std::vector<int>>;

auto count_to(int n) -> generator<int> {
  for (int i = 0; i < n; ++i) co_yield i;
}

template <class Batches>
auto collect(Batches&& b) {
  return pipeline::test_support::collect_batches(std::forward<Batches>(b));
}

TEST(batched, n_dividing_the_input_gives_only_full_batches) {
  EXPECT_EQ(collect(count_to(6) | pipeline::batched(3)), (int_batches{{0, 1, 2}, {3, 4, 5}}));
}

TEST(batched, n_not_dividing_the_input_ends_with_a_partial_batch) {
  EXPECT_EQ(collect(count_to(7) | pipeline::batched(3)), (int_batches{{0, 1, 2}, {3, 4, 5}, {6}}));
}

TEST(batched, an_empty_input_gives_no_batch) {
  EXPECT_EQ(collect(count_to(0) | pipeline::batched(3)), int_batches{});
  EXPECT_EQ(collect(pipeline::batched(std::vector<int>{}, 3)), int_batches{});
}

TEST(batched, n_larger_than_the_input_gives_one_partial_batch) {
  EXPECT_EQ(collect(count_to(4) | pipeline::batched(1000)), (int_batches{{0, 1, 2, 3}}));
}

TEST(batched, n_of_one_gives_single_element_batches) {
  EXPECT_EQ(collect(count_to(3) | pipeline::batched(1)), (int_batches{{0}, {1}, {2}}));
}

TEST(batched, n_zero_throws_invalid_argument_naming_n) {
  try {
    (void)pipeline::batched(0);
    FAIL() << "batched(0) did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("n must"), std::string::npos) << e.what();
  }
  std::vector<int> input{1, 2};
  EXPECT_THROW((void)pipeline::batched(input, 0), std::invalid_argument);
}

TEST(batched, call_form_and_pipe_form_agree) {
  std::vector<int> input{1, 2, 3, 4, 5};
  EXPECT_EQ(collect(pipeline::batched(input, 2)), collect(input | pipeline::batched(2)));
}

TEST(batched, takes_an_lvalue_generator) {
  auto g = count_to(5);
  EXPECT_EQ(collect(g | pipeline::batched(2)), (int_batches{{0, 1}, {2, 3}, {4}}));
}

TEST(batched, keeps_an_rvalue_input_alive) {
  auto batches = pipeline::batched(std::vector<int>{1, 2, 3}, 2);  // the vector is moved in
  EXPECT_EQ(collect(batches), (int_batches{{1, 2}, {3}}));
}

TEST(batched, reads_the_input_lazily_one_batch_at_a_time) {
  int produced = 0;
  auto source = [](int* p) -> generator<int> {
    for (int i = 0;; ++i) {
      ++*p;
      co_yield i;
    }
  }(&produced);
  auto batches = std::move(source) | pipeline::batched(3);
  EXPECT_EQ(produced, 0);
  auto it = batches.begin();
  EXPECT_EQ(*it, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(produced, 3);
  ++it;
  EXPECT_EQ(*it, (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(produced, 6);
}

TEST(batched, moves_the_elements_of_a_generator) {
  auto source = []() -> generator<std::unique_ptr<int>> {
    for (int i = 0; i < 3; ++i) co_yield std::make_unique<int>(i);
  }();
  std::vector<int> seen;
  for (auto&& batch : std::move(source) | pipeline::batched(2)) {
    for (auto& p : batch) seen.push_back(*p);
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
}

TEST(batched, moves_the_elements_of_an_rvalue_container) {
  std::vector<std::unique_ptr<int>> input;
  input.push_back(std::make_unique<int>(7));
  auto batches = pipeline::batched(std::move(input), 2);
  const auto& batch = *batches.begin();
  ASSERT_EQ(batch.size(), 1U);
  EXPECT_EQ(*batch[0], 7);
}

TEST(batched, copies_the_elements_of_an_lvalue_container) {
  std::vector<std::string> input{"a long string that a move would empty", "b"};
  for (auto&& batch : input | pipeline::batched(2)) EXPECT_EQ(batch, input);
  EXPECT_EQ(input[0], "a long string that a move would empty");
}

TEST(batched, the_consumer_may_move_each_batch_out) {
  std::vector<std::vector<int>> taken;
  for (auto&& batch : count_to(5) | pipeline::batched(2)) taken.push_back(std::move(batch));
  EXPECT_EQ(taken, (int_batches{{0, 1}, {2, 3}, {4}}));
}

TEST(batched, exception_from_the_input_reaches_the_consumer) {
  auto source = []() -> generator<int> {
    co_yield 1;
    throw std::runtime_error("read failed");
  }();
  auto batches = std::move(source) | pipeline::batched(5);
  EXPECT_THROW((void)batches.begin(), std::runtime_error);
}

#if PIPELINE_TEST_STD_VIEWS
TEST(batched, composes_after_std_views) {
  auto batches = count_to(5) | std::views::transform([](int i) { return i * 10; }) | pipeline::batched(2);
  EXPECT_EQ(collect(batches), (int_batches{{0, 10}, {20, 30}, {40}}));
}
#endif

}  // namespace
