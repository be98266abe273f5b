// pipeline::run with a sink that commits the DLQ's letters in its own transactions: each write
// carries the letters not stored yet, a write that fails takes them back, and a batch split to
// find a record the sink refuses still ends with every record in the sink or the DLQ, once.
#include <pipeline/dead_letter_sharing_sink.hpp>
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/runner.hpp>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

// A DLQ that counts the calls made to it; the sink below also stores into `letters`.
struct counting_dlq {
  auto write(std::span<const pipeline::dead_letter> batch, std::stop_token) -> pipeline::result<void> {
    const std::scoped_lock lock{mutex};
    ++own_writes;
    letters.insert(letters.end(), batch.begin(), batch.end());
    return pipeline::ok();
  }

  std::mutex mutex;
  std::vector<pipeline::dead_letter> letters;
  int own_writes = 0;
};

// All or nothing: a negative value fails the whole call (`permanent`, so the runner splits the
// batch); otherwise the values and the letters given commit together, one transaction.
struct sharing_sink {
  using value_type = int;

  explicit sharing_sink(counting_dlq& dlq, bool shares) : dlq_(dlq), shares_(shares) {}

  [[nodiscard]] auto shares_transactions_with(const counting_dlq& dlq) const noexcept -> bool {
    return shares_ && &dlq == &dlq_;
  }
  auto write(std::span<const int> values, std::stop_token) -> pipeline::result<void> { return commit(values, {}); }
  auto write(std::span<const int> values, std::stop_token, pipeline::letters_into<counting_dlq> shared)
      -> pipeline::result<void> {
    return commit(values, shared.letters);
  }

  [[nodiscard]] auto stored() -> std::vector<int> {
    const std::scoped_lock lock{dlq_.mutex};
    auto sorted = rows_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }

 private:
  auto commit(std::span<const int> values, std::span<const pipeline::dead_letter> letters) -> pipeline::result<void> {
    if (std::any_of(values.begin(), values.end(), [](int v) { return v < 0; })) {
      return pipeline::permanent_error("negative");
    }
    const std::scoped_lock lock{dlq_.mutex};
    rows_.insert(rows_.end(), values.begin(), values.end());
    dlq_.letters.insert(dlq_.letters.end(), letters.begin(), letters.end());
    return pipeline::ok();
  }

  counting_dlq& dlq_;
  bool shares_;
  std::vector<int> rows_;
};
static_assert(pipeline::dead_letter_sharing_sink<sharing_sink, counting_dlq>);

// 100 values in batches of 10. The transform refuses those ending in 3 (one or two a batch);
// two are negative and reach the sink (not the last of their batch), which refuses them.
auto value_at(int i) -> int { return i == 7 || i == 57 ? -(i + 1) : i; }
auto refuse_threes(int v) -> pipeline::result<int> {
  if (std::abs(v) % 10 == 3) return pipeline::invalid_input_error("ends in 3");
  return v;
}

struct outcome {
  pipeline::run_report report;
  std::vector<int> rows;
  std::vector<std::string> letters;  // payloads, sorted
  int own_writes = 0;
};

auto load(bool shares) -> outcome {
  std::vector<int> values;
  for (int i = 0; i < 100; ++i) values.push_back(value_at(i));
  pipeline::vector_source<int> source{values, 10};
  counting_dlq dlq;
  sharing_sink sink{dlq, shares};
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::runner_options options;
  options.workers = 2;
  options.checkpoint_interval = std::chrono::milliseconds{0};
  outcome out;
  out.report = pipeline::run(source, refuse_threes, sink, dlq, checkpoints, options);
  out.rows = sink.stored();
  for (const auto& l : dlq.letters) out.letters.push_back(l.payload);
  std::sort(out.letters.begin(), out.letters.end());
  out.own_writes = dlq.own_writes;
  return out;
}

TEST(dead_letter_sharing_sink, letters_ride_with_the_writes_once_each_even_when_a_batch_is_split) {
  std::vector<int> good;
  std::vector<std::string> bad;
  for (int i = 0; i < 100; ++i) {
    const int v = value_at(i);
    if (v >= 0 && v % 10 != 3) {
      good.push_back(v);
    } else {
      bad.push_back(pipeline::to_payload(v));
    }
  }
  std::sort(bad.begin(), bad.end());

  const auto shared = load(true);
  ASSERT_EQ(shared.report.status, pipeline::run_status::completed);
  EXPECT_EQ(shared.rows, good);
  EXPECT_EQ(shared.letters, bad);  // each once: none lost with a failed write, none carried twice
  EXPECT_EQ(shared.report.dead_lettered, bad.size());
  EXPECT_EQ(shared.own_writes, 0);  // every letter committed with rows, the sink's refusals too

  // The same sink, saying it does not share: the letters go through the DLQ's own writes.
  const auto apart = load(false);
  ASSERT_EQ(apart.report.status, pipeline::run_status::completed);
  EXPECT_EQ(apart.rows, good);
  EXPECT_EQ(apart.letters, bad);
  EXPECT_GE(apart.own_writes, 10);  // at least one a batch: each has a letter
}

}  // namespace
