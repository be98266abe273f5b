// pipeline::sqlite::table_sink answering per record (write_each): each row its own statement
// in the batch's one transaction, a refused row's constraint failure its own, the others
// committed once, and the runner dead-lettering exactly the bad rows with one write_each per
// batch.
#include <pipeline/sqlite/sqlite.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sqlite/sqlite_test_support.hpp"
#include "support/per_record_run.hpp"

namespace {

using pipeline::record;
using pipeline::value;
using pipeline::sqlite::table_sink;
using ::testing::HasSubstr;

static_assert(pipeline::per_record_sink<table_sink>);

auto good(std::int64_t id) -> record {
  return {{"id", id}, {"name", fmt::format("n{}", id)}, {"price", id * 10}, {"code", fmt::format("c{}", id)}};
}

auto with(record r, std::string_view field, value v) -> record {
  r.set(field, std::move(v));
  return r;
}

class sqlite_table_sink_each : public ::testing::Test {
 protected:
  void SetUp() override {
    // No key on id: a good row stored twice would show. `code` is the unique key.
    raw_.exec("CREATE TABLE items (id INTEGER NOT NULL, name TEXT NOT NULL CHECK (length(name) <= 8), "
              "price INTEGER CHECK (price >= 0), code TEXT UNIQUE)");
  }
  auto open() -> table_sink {
    return table_sink::open(db_, {.table = "items", .columns = {"id", "name", "price", "code"}}).value();
  }
  auto stored_ids() -> std::vector<std::int64_t> {
    std::vector<std::int64_t> ids;
    for (const auto& r : raw_.rows("SELECT id FROM items ORDER BY id")) ids.push_back(r.find("id")->get<std::int64_t>());
    return ids;
  }

  sqlite_test::temp_database_file file_;
  sqlite_test::raw_connection raw_{file_.path()};
  std::shared_ptr<pipeline::sqlite::database> db_ = file_.open();
};

TEST_F(sqlite_table_sink_each, a_mixed_batch_refuses_exactly_its_bad_rows_and_commits_the_others_once) {
  auto sink = open();
  ASSERT_TRUE(sink.write(std::vector{good(100)}, {}));
  const std::vector<record> rows{
      good(1),
      with(good(2), "name", "abcdefghij"),  // CHECK (length(name) <= 8)
      with(good(3), "name", nullptr),       // NOT NULL
      with(good(4), "price", -5),           // CHECK (price >= 0)
      with(good(5), "code", "c100"),        // UNIQUE, against the row stored before
      with(good(6), "code", "c1"),          // UNIQUE, against row 0 of this batch
      with(good(7), "price", std::numeric_limits<double>::quiet_NaN()),  // NaN: sqlite would store NULL
      good(8),
  };
  auto refused = sink.write_each(rows, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  struct expected {
    std::size_t index;
    pipeline::error_kind kind;
    std::int64_t code;
    const char* says;
  };
  const std::vector<expected> want{
      {1, pipeline::error_kind::permanent, SQLITE_CONSTRAINT_CHECK, "CHECK constraint failed"},
      {2, pipeline::error_kind::permanent, SQLITE_CONSTRAINT_NOTNULL, "NOT NULL constraint failed: items.name"},
      {3, pipeline::error_kind::permanent, SQLITE_CONSTRAINT_CHECK, "CHECK constraint failed"},
      {4, pipeline::error_kind::permanent, SQLITE_CONSTRAINT_UNIQUE, "UNIQUE constraint failed: items.code"},
      {5, pipeline::error_kind::permanent, SQLITE_CONSTRAINT_UNIQUE, "UNIQUE constraint failed: items.code"},
      {6, pipeline::error_kind::invalid_input, 0, "NaN"},
  };
  ASSERT_EQ(refused->size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    const auto& r = (*refused)[k];
    SCOPED_TRACE(r.reason.message);
    EXPECT_EQ(r.index, want[k].index);
    EXPECT_EQ(r.reason.kind, want[k].kind);
    EXPECT_EQ(r.reason.native_code, want[k].code);
    EXPECT_THAT(r.reason.message, HasSubstr(want[k].says));
    EXPECT_THAT(r.reason.message, HasSubstr(fmt::format("row {} of {}", want[k].index, rows.size())));
  }
  EXPECT_EQ(stored_ids(), (std::vector<std::int64_t>{1, 8, 100}));
}

TEST_F(sqlite_table_sink_each, a_clean_batch_refuses_nothing) {
  auto sink = open();
  pipeline::test::expect_a_clean_batch_refuses_nothing(sink, good, [&] { return stored_ids(); });
}

TEST_F(sqlite_table_sink_each, write_stays_all_or_nothing) {
  auto sink = open();
  auto r = sink.write(std::vector{good(1), with(good(2), "price", -1)}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().native_code, SQLITE_CONSTRAINT_CHECK);
  EXPECT_TRUE(stored_ids().empty());
}

// A table whose conflict clause rolls back the whole transaction takes the batch's earlier
// rows with it: the call fails as a whole, and nothing is left half-written.
TEST_F(sqlite_table_sink_each, a_refusal_that_rolls_back_the_transaction_fails_the_whole_call) {
  raw_.exec("CREATE TABLE strict_items (id INTEGER NOT NULL, name TEXT, price INTEGER, code TEXT UNIQUE ON CONFLICT "
            "ROLLBACK)");
  auto sink = table_sink::open(db_, {.table = "strict_items", .columns = {"id", "name", "price", "code"}}).value();
  auto refused = sink.write_each(std::vector{good(1), good(2), with(good(3), "code", "c1"), good(4)}, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, pipeline::error_kind::permanent);
  EXPECT_TRUE(raw_.rows("SELECT id FROM strict_items").empty());
  // The sink goes on working.
  auto next = sink.write_each(std::vector{good(5)}, {});
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->empty());
}

TEST_F(sqlite_table_sink_each, the_runner_dead_letters_exactly_the_bad_rows_with_one_write_each_per_batch) {
  auto sink = open();
  // Refused by a CHECK, and a duplicate of a key stored before the run (a duplicate of another
  // row in the run would race: with 2 workers either twin may commit first).
  raw_.exec("INSERT INTO items (id, name, code) VALUES (-1, 'before', 'taken')");
  pipeline::test::expect_runner_dead_letters_exactly_the_bad_rows(
      sink, 200, good, {{3, "name", std::string(20, 'x')}, {9, "price", -1}, {17, "code", "taken"}}, [&] {
        auto ids = stored_ids();
        std::erase(ids, -1);
        return ids;
      });
}

}  // namespace
