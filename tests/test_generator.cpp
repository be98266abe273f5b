#include <pipeline/generator.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/chunk.hpp>
#include <range/v3/view/transform.hpp>

#include "support/std_views.hpp"

namespace {

using pipeline::generator;

static_assert(std::ranges::input_range<generator<int>>);
static_assert(std::same_as<std::ranges::range_reference_t<generator<int>>, int&>);
static_assert(std::movable<generator<int>>);
static_assert(!std::copy_constructible<generator<int>>);
static_assert(!std::is_copy_assignable_v<generator<int>>);
// Not a view: an lvalue move-only view would not be a viewable_range.
static_assert(!std::ranges::view<generator<int>>);
static_assert(std::ranges::viewable_range<generator<int>&>);
static_assert(std::ranges::viewable_range<generator<int>>);
static_assert(ranges::input_range<generator<int>>);

auto count_to(int n) -> generator<int> {
  for (int i = 0; i < n; ++i) co_yield i;
}

auto collect(generator<int>& g) -> std::vector<int> {
  std::vector<int> out;
  for (int v : g) out.push_back(v);
  return out;
}

// Counts copies, so that a test can tell a reference from a copy.
struct copy_counter {
  explicit copy_counter(int* copies) : copies_(copies) {}
  copy_counter(const copy_counter& other) : copies_(other.copies_) { ++*copies_; }
  copy_counter(copy_counter&&) noexcept = default;
  auto operator=(const copy_counter&) -> copy_counter& = delete;
  auto operator=(copy_counter&&) -> copy_counter& = delete;
  ~copy_counter() = default;

  int* copies_;
};

// Counts its destruction, to see which locals of a coroutine body were destroyed.
class destruction_guard {
 public:
  explicit destruction_guard(int* destroyed) : destroyed_(destroyed) {}
  destruction_guard(const destruction_guard&) = delete;
  auto operator=(const destruction_guard&) -> destruction_guard& = delete;
  ~destruction_guard() { ++*destroyed_; }

 private:
  int* destroyed_;
};

TEST(generator, yields_the_values_in_order) {
  auto g = count_to(4);
  EXPECT_EQ(collect(g), (std::vector<int>{0, 1, 2, 3}));
}

TEST(generator, an_empty_body_yields_nothing) {
  auto g = count_to(0);
  EXPECT_TRUE(g.begin() == g.end());
}

TEST(generator, nothing_runs_until_begin) {
  bool ran = false;
  auto g = [](bool& flag) -> generator<int> {
    flag = true;
    co_yield 1;
  }(ran);
  EXPECT_FALSE(ran);
  auto it = g.begin();
  EXPECT_TRUE(ran);
  EXPECT_EQ(*it, 1);
}

TEST(generator, begin_again_continues_from_the_current_element) {
  auto g = count_to(3);
  auto it = g.begin();
  ++it;
  EXPECT_EQ(*g.begin(), 1);
}

TEST(generator, an_lvalue_is_yielded_by_reference) {
  int copies = 0;
  const copy_counter* yielded_address = nullptr;
  auto g = [](int* c, const copy_counter** address) -> generator<copy_counter> {
    copy_counter local{c};
    *address = &local;
    co_yield local;
  }(&copies, &yielded_address);
  for (auto& value : g) EXPECT_EQ(&value, yielded_address);
  EXPECT_EQ(copies, 0);
}

TEST(generator, an_rvalue_is_yielded_without_a_copy) {
  int copies = 0;
  auto g = [](int* c) -> generator<copy_counter> { co_yield copy_counter{c}; }(&copies);
  for (auto& value : g) EXPECT_EQ(value.copies_, &copies);
  EXPECT_EQ(copies, 0);
}

TEST(generator, a_const_lvalue_is_yielded_as_a_copy) {
  int copies = 0;
  auto g = [](int* c) -> generator<copy_counter> {
    const copy_counter local{c};
    co_yield local;
  }(&copies);
  for (auto& value : g) (void)value;
  EXPECT_EQ(copies, 1);
}

TEST(generator, yields_values_converted_to_its_element_type) {
  auto g = []() -> generator<std::string> { co_yield "converted"; }();
  EXPECT_EQ(*g.begin(), "converted");
}

TEST(generator, the_consumer_can_move_the_yielded_value_out_and_the_body_sees_it_moved_from) {
  std::size_t size_after_resume = 99;
  auto g = [](std::size_t& seen) -> generator<std::vector<int>> {
    std::vector<int> buffer{1, 2, 3};
    co_yield buffer;
    seen = buffer.size();
  }(size_after_resume);
  std::vector<std::vector<int>> taken;
  for (auto&& batch : g) taken.push_back(std::move(batch));
  ASSERT_EQ(taken.size(), 1U);
  EXPECT_EQ(taken[0], (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(size_after_resume, 0U);
}

TEST(generator, yields_move_only_elements) {
  auto g = []() -> generator<std::unique_ptr<int>> {
    for (int i = 0; i < 3; ++i) co_yield std::make_unique<int>(i);
  }();
  std::vector<std::unique_ptr<int>> taken;
  for (auto&& p : g) taken.push_back(std::move(p));
  ASSERT_EQ(taken.size(), 3U);
  EXPECT_EQ(*taken[2], 2);
}

TEST(generator, destroying_it_mid_iteration_runs_the_body_destructors) {
  int destroyed = 0;
  {
    auto g = [](int* d) -> generator<int> {
      destruction_guard guard{d};
      for (int i = 0;; ++i) co_yield i;
    }(&destroyed);
    auto it = g.begin();
    ++it;
    EXPECT_EQ(*it, 1);
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 1);
}

TEST(generator, destroying_it_unstarted_destroys_its_arguments) {
  int destroyed = 0;
  {
    auto g = [](std::unique_ptr<destruction_guard> guard) -> generator<int> { co_yield guard ? 1 : 0; }(
        std::make_unique<destruction_guard>(&destroyed));
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 1);
}

TEST(generator, exception_inside_reaches_the_consumer) {
  auto g = []() -> generator<int> {
    co_yield 1;
    throw std::runtime_error("broken source");
  }();
  auto it = g.begin();
  EXPECT_EQ(*it, 1);
  try {
    ++it;
    FAIL() << "++ did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "broken source");
  }
  EXPECT_TRUE(it == g.end());
}

TEST(generator, exception_before_the_first_yield_reaches_begin) {
  auto g = []() -> generator<int> {
    throw std::runtime_error("cannot connect");
    co_return;
  }();
  EXPECT_THROW((void)g.begin(), std::runtime_error);
}

TEST(generator, a_moved_from_generator_is_empty) {
  auto g = count_to(3);
  auto h = std::move(g);
  EXPECT_TRUE(g.begin() == g.end());  // NOLINT(bugprone-use-after-move): the documented state
  EXPECT_EQ(collect(h), (std::vector<int>{0, 1, 2}));
}

TEST(generator, move_assignment_destroys_the_previous_frame) {
  int destroyed = 0;
  auto g = [](int* d) -> generator<int> {
    destruction_guard guard{d};
    co_yield 1;
  }(&destroyed);
  (void)g.begin();
  g = count_to(2);
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(collect(g), (std::vector<int>{0, 1}));
}

#if PIPELINE_TEST_STD_VIEWS
TEST(generator, composes_with_std_views_as_an_lvalue) {
  auto g = count_to(10);
  std::vector<int> out;
  for (int v : g | std::views::transform([](int i) { return i * 10; }) | std::views::take(3)) out.push_back(v);
  EXPECT_EQ(out, (std::vector<int>{0, 10, 20}));
}
#endif

#if PIPELINE_TEST_STD_VIEWS
TEST(generator, composes_with_std_views_as_an_rvalue) {
  auto g = count_to(10);
  auto view = std::move(g) | std::views::transform([](int i) { return i * 10; }) | std::views::take(3);
  std::vector<int> out;
  for (int v : view) out.push_back(v);
  EXPECT_EQ(out, (std::vector<int>{0, 10, 20}));
}
#endif

TEST(generator, composes_with_range_v3_views_as_an_lvalue) {
  auto g = count_to(5);
  auto doubled = g | ranges::views::transform([](int i) { return i * 2; }) | ranges::to<std::vector>();
  EXPECT_EQ(doubled, (std::vector<int>{0, 2, 4, 6, 8}));

  auto h = count_to(5);
  std::vector<std::vector<int>> chunks;
  for (auto&& chunk : h | ranges::views::chunk(2)) chunks.push_back(chunk | ranges::to<std::vector>());
  EXPECT_EQ(chunks, (std::vector<std::vector<int>>{{0, 1}, {2, 3}, {4}}));
}

}  // namespace
