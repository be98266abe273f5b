// pipeline::sqlite passes the contract suites every adapter passes: each factory writes into a
// fresh database file (removed afterwards), or into a private in-memory database where the
// store can read back what it holds. The table sink has no in-memory variant: the test reads
// its rows back through a second connection, which cannot see a private in-memory database.
#include <pipeline/sqlite/sqlite.hpp>

#include <memory>
#include <string>

#include "sqlite/sqlite_test_support.hpp"
#include "support/relational_contracts.hpp"

namespace {

using namespace pipeline::sqlite;

enum class place : std::uint8_t { file, memory };

// Where a factory's store lives: a temporary file, or memory. One database per factory, so
// one per test.
template <place Place>
struct database_place {
  auto database() -> std::shared_ptr<pipeline::sqlite::database> {
    if (!db_) db_ = Place == place::file ? file_.open() : database::open(":memory:").value();
    return db_;
  }

 private:
  sqlite_test::temp_database_file file_;
  std::shared_ptr<pipeline::sqlite::database> db_;
};

template <write_mode Mode>
struct table_sink_factory {
  using sink_type = table_sink;
  static constexpr bool idempotent = Mode == write_mode::upsert;
  static constexpr bool thread_safe = true;

  auto make_sink() -> std::unique_ptr<table_sink> {
    table_sink_options options{.table = "items", .columns = {"id", "name"}, .mode = Mode};
    if constexpr (Mode == write_mode::upsert) {
      raw_.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
      options.key_columns = {"id"};
      options.update_columns = {"name"};
    } else {
      raw_.exec("CREATE TABLE items (id INTEGER, name TEXT)");
    }
    return std::make_unique<table_sink>(table_sink::open(file_.open(), options).value());
  }
  static auto make_record(std::size_t i) -> pipeline::record {
    return {{"id", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }
  auto stored() -> std::vector<pipeline::record> { return raw_.rows("SELECT id, name FROM items"); }

 private:
  sqlite_test::temp_database_file file_;
  sqlite_test::raw_connection raw_{file_.path()};
};

// For the stores that read back what they hold: checkpoint_store, job_log.
template <class Store, place Place>
struct store_factory {
  using store_type = Store;
  auto make_store() -> std::unique_ptr<Store> { return std::make_unique<Store>(Store::open(place_.database()).value()); }

 private:
  database_place<Place> place_;
};

template <place Place>
struct dead_letter_table_factory {
  using dlq_type = dead_letter_table;
  static constexpr auto time_precision = std::chrono::microseconds{1};
  auto make_dlq() -> std::unique_ptr<dlq_type> {
    auto dlq = std::make_unique<dlq_type>(dlq_type::open(place_.database()).value());
    last_ = dlq.get();
    return dlq;
  }
  auto stored() -> std::vector<pipeline::dead_letter> { return pipeline::test::all_dead_letters(*last_); }

 private:
  database_place<Place> place_;
  dlq_type* last_ = nullptr;
};

// Named, since a comma in a macro argument splits it.
using table_sinks = ::testing::Types<table_sink_factory<write_mode::upsert>, table_sink_factory<write_mode::insert>>;
using exactly_once_sinks = ::testing::Types<table_sink_factory<write_mode::insert>>;
using checkpoint_stores =
    ::testing::Types<store_factory<checkpoint_store, place::file>, store_factory<checkpoint_store, place::memory>>;
using dead_letter_tables =
    ::testing::Types<dead_letter_table_factory<place::file>, dead_letter_table_factory<place::memory>>;
using job_logs = ::testing::Types<store_factory<job_log, place::file>, store_factory<job_log, place::memory>>;

}  // namespace

PIPELINE_RELATIONAL_CONTRACTS(sqlite, table_sinks, exactly_once_sinks, checkpoint_stores, dead_letter_tables,
                              job_logs);
