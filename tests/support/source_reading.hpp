#pragma once
// Reading a source of records to its end, and resuming it at each record, for the SQL
// adapters' source tests.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include <pipeline/batch.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>

namespace pipeline::test {

// Every record `src` gives, in order; its batches kept in `batches` when given.
template <class Source>
auto read_all(Source& src, std::vector<batch<record>>* batches = nullptr) -> std::vector<record> {
  std::vector<record> out;
  while (auto b = src.next_batch({}).value()) {
    for (const auto& r : b->records) out.push_back(r);
    if (batches != nullptr) batches->push_back(std::move(*b));
  }
  return out;
}

// The "id" of each record.
inline auto ids_of(const std::vector<record>& rows) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.find("id")->get<std::int64_t>());
  return ids;
}

// Every record's own position, given to a fresh source from `open_source()`, reads that
// record next.
template <class Open>
void expect_each_own_position_reads_its_record(const std::vector<batch<record>>& batches, Open open_source) {
  for (std::size_t k = 0; k < batches.size(); ++k) {
    const auto& b = batches[k];
    ASSERT_EQ(b.positions.size(), b.records.size()) << "batch " << k;
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      auto fresh = open_source();
      ASSERT_TRUE(fresh.seek(b.positions[i]));
      auto next = fresh.next_batch({}).value();
      ASSERT_TRUE(next && !next->records.empty()) << "batch " << k << ", record " << i;
      EXPECT_EQ(next->records.front(), b.records[i]) << "batch " << k << ", record " << i;
    }
  }
}

// A cursor over the ids 1 … 2500 (`open_cursor(batch_size)` opens one) reads them in batches
// of 300 ending at the count of rows handed out, and a fresh one seeked to the fourth batch's
// end reads 1201 … 2500.
template <class Open>
void expect_cursor_reads_in_batches_and_resumes_at_a_count(Open open_cursor) {
  auto src = open_cursor(300);
  std::vector<batch<record>> batches;
  auto ids = ids_of(read_all(src, &batches));
  ASSERT_EQ(ids.size(), 2500u);
  EXPECT_EQ(batches.size(), 9u);
  EXPECT_EQ(batches[0].end, position::from_integer(300));
  auto resumed = open_cursor(1000);
  ASSERT_TRUE(resumed.seek(batches[3].end));
  auto rest = ids_of(read_all(resumed));
  ASSERT_EQ(rest.size(), 1300u);
  EXPECT_EQ(rest.front(), 1201);
}

// A source of 30 records read 7 at a time (`open_source()` opens one) gives each record the
// count of rows before it, which a fresh source reads from.
template <class Open>
void expect_each_record_positioned_at_the_count_before_it(Open open_source) {
  auto src = open_source();
  std::vector<batch<record>> batches;
  ASSERT_EQ(read_all(src, &batches).size(), 30u);
  EXPECT_EQ(batches[1].positions[0], position::from_integer(7));
  expect_each_own_position_reads_its_record(batches, open_source);
}

// The ids read from each partition of `plan`, in plan order, `open_source(p)` making the
// source of partition p.
template <class Plan, class Open>
auto ids_by_partition(const Plan& plan, Open open_source) -> std::vector<std::vector<std::int64_t>> {
  std::vector<std::vector<std::int64_t>> out;
  for (const auto& p : plan) {
    auto src = open_source(p);
    out.push_back(ids_of(read_all(src)));
  }
  return out;
}

// Each partition read `per_partition` ids, and together 1 … n in order, each once.
inline void expect_ids_split_evenly(const std::vector<std::vector<std::int64_t>>& parts, std::size_t per_partition) {
  std::vector<std::int64_t> all;
  for (const auto& ids : parts) {
    EXPECT_EQ(ids.size(), per_partition);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<std::int64_t>(i + 1)) << "id " << i;
  EXPECT_EQ(all.size(), parts.size() * per_partition);
}

// How many records each partition read.
inline auto sizes_of(const std::vector<std::vector<std::int64_t>>& parts) -> std::vector<std::size_t> {
  std::vector<std::size_t> out;
  for (const auto& ids : parts) out.push_back(ids.size());
  return out;
}

}  // namespace pipeline::test
