#pragma once
// What the PostgreSQL queue tests share (tests/postgres and tests/fault): a queue of its own
// per test (its table dropped afterwards), numbered records, and a transform that refuses
// some of them, naming the id in the reason so that a test can read the DLQ back as ids.

#include <pipeline/postgres/postgres.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "postgres/postgres_test_support.hpp"

namespace postgres_test::queue {

// Records {id: 0..n-1, name: "row-<id>"}.
inline auto records(std::int64_t n) -> std::vector<pipeline::record> {
  std::vector<pipeline::record> out;
  for (std::int64_t i = 0; i < n; ++i) out.push_back(pipeline::record{{"id", i}, {"name", "row-" + std::to_string(i)}});
  return out;
}

inline auto bad(std::int64_t id) -> bool { return id % 97 == 13; }

// Passes good records; refuses bad ones with "bad id <id>".
inline auto refuse_bad(const pipeline::record& r) -> pipeline::result<pipeline::record> {
  const auto id = *r.find("id")->get_if<std::int64_t>();
  if (bad(id)) return pipeline::invalid_input_error(fmt::format("bad id {}", id));
  return r;
}

inline auto ids_where(std::int64_t n, bool want_bad) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < n; ++i) {
    if (bad(i) == want_bad) out.push_back(i);
  }
  return out;
}

// The id a letter of `refuse_bad` names (-1 for another letter).
inline auto refused_id(const std::string& message) -> std::int64_t {
  const auto at = message.find("bad id ");
  if (at == std::string::npos) return -1;
  std::int64_t id = -1;
  const auto* first = message.data() + at + 7;
  std::from_chars(first, message.data() + message.size(), id);
  return id;
}

inline auto sorted(std::vector<std::int64_t> v) -> std::vector<std::int64_t> {
  std::sort(v.begin(), v.end());
  return v;
}

// One test's queue: its table, state table and ledger, dropped when the test ends.
struct queue_tables {
  std::shared_ptr<pipeline::postgres::database> db = open_db();
  std::string table = table_name("q");
  std::string state = table_name("qstate");
  std::string ledger = table_name("qledger");
  dropped_tables cleanup{db, {table, state, ledger}};

  [[nodiscard]] auto options() const -> pipeline::postgres::queue_options {
    pipeline::postgres::queue_options o;
    o.table = table;
    o.state_table = state;
    o.batch_table = ledger;
    return o;
  }
};

}  // namespace postgres_test::queue
