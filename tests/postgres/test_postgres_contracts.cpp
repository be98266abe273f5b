// pipeline::postgres passes the contract suites every adapter passes, against the real server
// of PIPELINE_POSTGRES_TEST_URI: each factory writes into tables of its own, dropped afterwards.
#include <pipeline/postgres/postgres.hpp>
#include <pipeline/testing/testing.hpp>

#include <limits>
#include <memory>
#include <string>

#include "postgres/postgres_test_support.hpp"

namespace {

using namespace pipeline::postgres;

template <write_mode Mode>
struct table_sink_factory {
  using sink_type = table_sink;
  static constexpr bool idempotent = Mode != write_mode::insert;
  static constexpr bool thread_safe = true;

  auto make_sink() -> std::unique_ptr<table_sink> {
    const auto key = Mode == write_mode::insert ? "" : " PRIMARY KEY";
    postgres_test::exec(*db_, fmt::format("CREATE TABLE \"{}\" (id BIGINT{}, name VARCHAR(64))", table_, key));
    cleanup_.names.push_back(table_);
    cleanup_.names.push_back(ledger_);  // when a test makes it
    table_sink_options options{.table = table_, .columns = {"id", "name"}, .mode = Mode};
    options.batch_table = ledger_;
    if constexpr (Mode == write_mode::upsert) {
      options.key_columns = {"id"};
      options.update_columns = {"name"};
    }
    return std::make_unique<table_sink>(table_sink::open(db_, options).value());
  }
  static auto make_record(std::size_t i) -> pipeline::record {
    return {{"id", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }
  auto stored() -> std::vector<pipeline::record> {
    return postgres_test::rows(fmt::format("SELECT id, name FROM \"{}\"", table_));
  }

 private:
  std::shared_ptr<database> db_ = postgres_test::open_db();
  std::string table_ = postgres_test::table_name("sink");
  std::string ledger_ = postgres_test::table_name("ledger");
  postgres_test::dropped_tables cleanup_{db_, {}};
};

template <class Store, class Options>
struct store_factory {
  using store_type = Store;
  auto make_store() -> std::unique_ptr<Store> {
    cleanup_.names.push_back(table_);
    return std::make_unique<Store>(Store::open(db_, Options{.table = table_}).value());
  }

 private:
  std::shared_ptr<database> db_ = postgres_test::open_db();
  std::string table_ = postgres_test::table_name("store");
  postgres_test::dropped_tables cleanup_{db_, {}};
};

struct dead_letter_table_factory {
  using dlq_type = dead_letter_table;
  static constexpr auto time_precision = std::chrono::microseconds{1};
  auto make_dlq() -> std::unique_ptr<dlq_type> {
    cleanup_.names.push_back(table_);
    auto dlq = std::make_unique<dlq_type>(dlq_type::open(db_, {.table = table_}).value());
    last_ = dlq.get();
    return dlq;
  }
  auto stored() -> std::vector<pipeline::dead_letter> {
    auto rows = last_->read(0, std::numeric_limits<std::size_t>::max()).value();
    std::vector<pipeline::dead_letter> out;
    for (auto& [id, letter] : rows) out.push_back(std::move(letter));
    return out;
  }

 private:
  std::shared_ptr<database> db_ = postgres_test::open_db();
  std::string table_ = postgres_test::table_name("dlq");
  postgres_test::dropped_tables cleanup_{db_, {}};
  dlq_type* last_ = nullptr;
};

using table_sinks = ::testing::Types<table_sink_factory<write_mode::insert>, table_sink_factory<write_mode::upsert>,
                                     table_sink_factory<write_mode::insert_ignore>>;
using checkpoint_stores = ::testing::Types<store_factory<checkpoint_store, checkpoint_store_options>>;
using dead_letter_tables = ::testing::Types<dead_letter_table_factory>;
using job_logs = ::testing::Types<store_factory<job_log, job_log_options>>;

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_table_sink, sink_contract, table_sinks);
// Exactly-once mode, in the write mode that needs it: a plain INSERT into a table with no key.
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_table_sink, transactional_sink_contract,
                               ::testing::Types<table_sink_factory<write_mode::insert>>);
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_checkpoint_store, checkpoint_store_contract, checkpoint_stores);
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_dead_letter_table, dead_letter_sink_contract, dead_letter_tables);
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_dead_letter_table, dead_letter_store_contract, dead_letter_tables);
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_job_log, job_log_store_contract, job_logs);
}  // namespace pipeline::testing
