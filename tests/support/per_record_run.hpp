#pragma once
// Runs records, some of them bad, through a per-record sink with pipeline::run, counting the
// calls the runner makes to it: to check that it answers a batch with one `write_each`, never
// bisects, and dead-letters exactly the bad records.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/record.hpp>
#include <pipeline/runner.hpp>
#include <pipeline/sink.hpp>

namespace pipeline::test {

template <pipeline::per_record_sink Sink>
class counted_sink {
 public:
  using value_type = typename Sink::value_type;

  explicit counted_sink(Sink& sink) noexcept : sink_(&sink) {}

  auto write(std::span<const value_type> records, std::stop_token stop) -> pipeline::result<void> {
    ++writes;
    return sink_->write(records, stop);
  }
  auto write_each(std::span<const value_type> records, std::stop_token stop)
      -> pipeline::result<std::vector<pipeline::rejected_record>> {
    ++write_each_calls;
    return sink_->write_each(records, stop);
  }

  std::atomic<int> writes{0};
  std::atomic<int> write_each_calls{0};

 private:
  Sink* sink_;
};

/// `write_each` of 50 rows `good(i)`: nothing refused, and `stored_ids()` holds 0 … 49 once.
template <pipeline::per_record_sink Sink, class Good, class StoredIds>
void expect_a_clean_batch_refuses_nothing(Sink& sink, Good good, StoredIds stored_ids) {
  std::vector<pipeline::record> rows;
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < 50; ++i) {
    rows.push_back(good(i));
    ids.push_back(i);
  }
  auto refused = sink.write_each(rows, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  EXPECT_TRUE(refused->empty());
  EXPECT_EQ(stored_ids(), ids);
}

/// A change that makes a good row bad: `field` set to `bad_value` in every 25th row from `first`.
struct spoiled_field {
  std::int64_t first;
  std::string field;
  pipeline::value bad_value;
};

/// Runs `count` rows `good(i)`, `spoiled` as said, through `sink` with pipeline::run (batches
/// of 50, 2 workers, dead letters and checkpoints in memory) and expects: one write_each per
/// batch and no write, exactly the spoiled rows dead-lettered, and `stored_ids()` the ids of
/// the others, each once, in order.
template <pipeline::per_record_sink Sink, class Good, class StoredIds>
void expect_runner_dead_letters_exactly_the_bad_rows(Sink& sink, std::int64_t count, Good good,
                                                     const std::vector<spoiled_field>& spoiled,
                                                     StoredIds stored_ids) {
  constexpr std::size_t batch_size = 50;
  std::vector<pipeline::record> rows;
  std::set<std::int64_t> bad;
  std::vector<std::int64_t> good_ids;
  for (std::int64_t i = 0; i < count; ++i) {
    auto r = good(i);
    for (const auto& s : spoiled) {
      if (i % 25 != s.first) continue;
      r.set(s.field, s.bad_value);
      bad.insert(i);
    }
    if (!bad.contains(i)) good_ids.push_back(i);
    rows.push_back(std::move(r));
  }
  pipeline::vector_source<pipeline::record> source{rows, batch_size};
  counted_sink counted{sink};
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::runner_options options;
  options.name = "per-record";
  options.workers = 2;

  const auto report = pipeline::run(source, pipeline::identity{}, counted, dlq, checkpoints, options);
  ASSERT_EQ(report.status, pipeline::run_status::completed) << (report.failure ? report.failure->message : "");
  EXPECT_EQ(report.dead_lettered, bad.size());
  EXPECT_EQ(report.written, rows.size() - bad.size());
  EXPECT_EQ(counted.write_each_calls.load(), static_cast<int>((rows.size() + batch_size - 1) / batch_size));
  EXPECT_EQ(counted.writes.load(), 0);
  std::set<std::int64_t> lettered;
  for (const auto& letter : dlq.entries()) {
    for (auto id : bad) {
      if (letter.payload.find(fmt::format("id: {},", id)) != std::string::npos) lettered.insert(id);
    }
  }
  EXPECT_EQ(lettered, bad);
  EXPECT_EQ(stored_ids(), good_ids);
}

}  // namespace pipeline::test
