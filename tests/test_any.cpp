#include <pipeline/any_checkpoint_store.hpp>
#include <pipeline/any_dead_letter_sink.hpp>
#include <pipeline/any_queue.hpp>
#include <pipeline/any_sink.hpp>
#include <pipeline/any_source.hpp>
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/memory/vector_source.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace {

// The wrappers model the concepts they erase, so the runner has one path.
static_assert(pipeline::seekable_source<pipeline::any_source<int>>);
static_assert(pipeline::flushable_sink<pipeline::any_sink<int>>);
static_assert(pipeline::per_record_sink<pipeline::any_sink<int>>);
static_assert(pipeline::transactional_sink<pipeline::any_sink<int>>);
static_assert(pipeline::checkpoint_store<pipeline::any_checkpoint_store>);
static_assert(pipeline::dead_letter_sink<pipeline::any_dead_letter_sink>);
static_assert(pipeline::queue<pipeline::any_queue<int>>);
static_assert(!std::is_copy_constructible_v<pipeline::any_sink<int>>);

// A source that cannot seek (a socket, stdin).
struct once_source {
  using value_type = int;
  bool done = false;
  auto next_batch(std::stop_token) -> pipeline::result<std::optional<pipeline::batch<int>>> {
    if (done) return std::optional<pipeline::batch<int>>{};
    done = true;
    return std::optional<pipeline::batch<int>>{pipeline::batch<int>{{1, 2}, pipeline::position{"1"}, {}, 0, 0, {}}};
  }
};

// A sink that counts flushes, to see that any_sink forwards them.
struct flushing_sink {
  using value_type = int;
  int* flushes;
  auto write(std::span<const int>, std::stop_token) -> pipeline::result<void> { return pipeline::ok(); }
  auto flush(std::stop_token) -> pipeline::result<void> {
    ++*flushes;
    return pipeline::ok();
  }
};

// An unbounded locked deque: the smallest thing that models pipeline::queue.
struct locked_deque {
  using value_type = int;
  std::mutex m;
  std::deque<int> items;
  bool closed = false;
  auto push(int v, std::stop_token) -> pipeline::push_status {
    std::scoped_lock l{m};
    if (closed) return pipeline::push_status::closed;
    items.push_back(v);
    return pipeline::push_status::pushed;
  }
  auto pop(std::stop_token) -> pipeline::pop_result<int> {
    std::scoped_lock l{m};
    if (items.empty()) return pipeline::pop_result<int>{pipeline::pop_status::closed};
    auto v = items.front();
    items.pop_front();
    return pipeline::pop_result<int>{v};
  }
  void close() {
    std::scoped_lock l{m};
    closed = true;
  }
  auto size() const -> std::size_t { return items.size(); }
};

TEST(any_source, forwards_batches_and_seeks) {
  pipeline::any_source<int> src = pipeline::vector_source<int>{{1, 2, 3}, 2};
  EXPECT_TRUE(src.can_seek());
  auto first = src.next_batch({});
  ASSERT_TRUE(first && *first);
  EXPECT_THAT((*first)->records, ::testing::ElementsAre(1, 2));
  ASSERT_TRUE(src.seek(pipeline::position{}));
  EXPECT_THAT((*src.next_batch({}))->records, ::testing::ElementsAre(1, 2));
}

TEST(any_source, seeking_a_source_that_cannot_is_a_permanent_error) {
  pipeline::any_source<int> src = once_source{};
  EXPECT_FALSE(src.can_seek());
  auto r = src.seek(pipeline::position{"1"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
}

TEST(any_sink, a_referenced_sink_receives_the_writes) {
  pipeline::memory_sink<int> target;
  pipeline::any_sink<int> sink{std::ref(target)};
  std::vector<int> rows{4, 5};
  ASSERT_TRUE(sink.write(std::span{std::as_const(rows)}, {}));
  EXPECT_THAT(target.records(), ::testing::ElementsAre(4, 5));
}

TEST(any_sink, forwards_errors_unchanged) {
  pipeline::any_sink<int> sink{std::in_place_type<pipeline::memory_sink<int>>};
  pipeline::memory_sink<int> target;
  target.fail_next_writes(1, pipeline::transient_error("timeout"));
  pipeline::any_sink<int> wrapped{std::ref(target)};
  std::vector<int> rows{1};
  auto r = wrapped.write(std::span{std::as_const(rows)}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), pipeline::transient_error("timeout"));
  EXPECT_TRUE(sink.write(std::span{std::as_const(rows)}, {}));
}

TEST(any_sink, flush_reaches_a_flushable_sink_and_is_a_no_op_otherwise) {
  int flushes = 0;
  pipeline::any_sink<int> flushing = flushing_sink{&flushes};
  ASSERT_TRUE(flushing.flush({}));
  EXPECT_EQ(flushes, 1);
  pipeline::any_sink<int> plain{std::in_place_type<pipeline::memory_sink<int>>};
  EXPECT_TRUE(plain.flush({}));
}

TEST(any_sink, write_each_forwards_to_a_per_record_sink) {
  pipeline::memory_sink<int> target;
  target.fail_records([](int v) -> std::optional<pipeline::error> {
    if (v < 0) return pipeline::permanent_error("negative");
    return std::nullopt;
  });
  pipeline::any_sink<int> sink{std::ref(target)};
  EXPECT_TRUE(pipeline::answers_per_record(sink));
  std::vector<int> rows{1, -2, 3};
  auto refused = sink.write_each(std::span{std::as_const(rows)}, {});
  ASSERT_TRUE(refused);
  EXPECT_THAT(*refused, ::testing::ElementsAre(pipeline::rejected_record{1, pipeline::permanent_error("negative")}));
  EXPECT_THAT(target.records(), ::testing::ElementsAre(1, 3));
}

// Over a sink without write_each, write_each is its all-or-nothing write, and says so.
TEST(any_sink, write_each_over_a_plain_sink_is_its_write_and_does_not_answer_per_record) {
  int flushes = 0;
  pipeline::any_sink<int> sink = flushing_sink{&flushes};
  EXPECT_FALSE(pipeline::answers_per_record(sink));
  std::vector<int> rows{1, 2};
  auto refused = sink.write_each(std::span{std::as_const(rows)}, {});
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->empty());
}

TEST(any_checkpoint_store, forwards_load_and_fenced_save) {
  pipeline::any_checkpoint_store store{std::in_place_type<pipeline::memory_checkpoint_store>};
  ASSERT_TRUE(store.save("k", pipeline::position::from_integer(9), 0));
  EXPECT_EQ(store.load("k")->version, 1u);
  EXPECT_EQ(store.save("k", pipeline::position::from_integer(1), 0).error().kind, pipeline::error_kind::conflict);
}

TEST(any_dead_letter_sink, forwards_writes) {
  pipeline::memory_dlq target;
  pipeline::any_dead_letter_sink dlq{std::ref(target)};
  std::vector<pipeline::dead_letter> one{{"p", pipeline::permanent_error("bad"), 2, {}, 0, {}}};
  ASSERT_TRUE(dlq.write(std::span{std::as_const(one)}, {}));
  EXPECT_EQ(target.entries(), one);
}

TEST(any_queue, forwards_push_pop_close_and_size) {
  pipeline::any_queue<int> q{std::in_place_type<locked_deque>};
  EXPECT_EQ(q.push(1, {}), pipeline::push_status::pushed);
  EXPECT_EQ(q.size(), 1u);
  auto r = q.pop({});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1);
  q.close();
  EXPECT_EQ(q.push(2, {}), pipeline::push_status::closed);
}

}  // namespace
