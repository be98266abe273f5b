#pragma once
// Reading a source of records to its end, and resuming it at each record, for the SQL
// adapters' source tests.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include <pipeline/batch.hpp>
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

}  // namespace pipeline::test
