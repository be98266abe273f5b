#pragma once
// The contract suites every SQL adapter passes (table sink, exactly-once sink, checkpoint store,
// dead-letter table, job log), instantiated by one macro, and the factories of the adapters on
// a shared server (mysql, postgres): each factory writes into tables of its own, dropped
// afterwards.

#include <pipeline/testing/testing.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace pipeline::test {

/// Every letter `dlq` holds, in write order.
template <class DeadLetterTable>
auto all_dead_letters(DeadLetterTable& dlq) -> std::vector<dead_letter> {
  auto rows = dlq.read(0, std::numeric_limits<std::size_t>::max()).value();
  std::vector<dead_letter> out;
  for (auto& [id, letter] : rows) out.push_back(std::move(letter));
  return out;
}

// `Server` is the adapter's test support:
//   using database, table_sink, table_sink_options, write_mode, checkpoint_store,
//         checkpoint_store_options, dead_letter_table, job_log, job_log_options,
//         keyset_source, cursor_source = the adapter's;
//   static auto open_db() -> std::shared_ptr<database>;
//   static auto table_name(std::string_view prefix) -> std::string;  // unique per test
//   static auto quote(std::string_view name) -> std::string;          // as an identifier
//   static void exec(database&, const std::string& sql);
//   static auto rows(const std::shared_ptr<database>&, const std::string& sql) -> std::vector<record>;
//   static void drop(database&, const std::string& table);           // if it exists

/// Drops `names` from `db` when it goes, pass or fail.
template <class Server>
struct dropped_tables {
  std::shared_ptr<typename Server::database> db;
  std::vector<std::string> names;
  ~dropped_tables() {
    for (const auto& n : names) Server::drop(*db, n);
  }
};

/// A table (id BIGINT, name VARCHAR(64)), id the PRIMARY KEY except for a plain insert, and a
/// sink of `Mode` into it.
template <class Server, auto Mode>
struct server_table_sink_factory {
  using sink_type = typename Server::table_sink;
  static constexpr bool idempotent = Mode != Server::write_mode::insert;
  static constexpr bool thread_safe = true;

  auto make_sink() -> std::unique_ptr<sink_type> {
    const auto key = Mode == Server::write_mode::insert ? "" : " PRIMARY KEY";
    Server::exec(*db_, fmt::format("CREATE TABLE {} (id BIGINT{}, name VARCHAR(64))", Server::quote(table_), key));
    cleanup_.names.push_back(table_);
    cleanup_.names.push_back(ledger_);  // when a test makes it
    typename Server::table_sink_options options{.table = table_, .columns = {"id", "name"}, .mode = Mode};
    options.batch_table = ledger_;
    if constexpr (Mode == Server::write_mode::upsert) {
      options.key_columns = {"id"};
      options.update_columns = {"name"};
    }
    return std::make_unique<sink_type>(sink_type::open(db_, options).value());
  }
  static auto make_record(std::size_t i) -> record {
    return {{"id", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }
  auto stored() -> std::vector<record> {
    return Server::rows(db_, fmt::format("SELECT id, name FROM {}", Server::quote(table_)));
  }

 private:
  std::shared_ptr<typename Server::database> db_ = Server::open_db();
  std::string table_ = Server::table_name("sink");
  std::string ledger_ = Server::table_name("ledger");
  dropped_tables<Server> cleanup_{db_, {}};
};

/// A store (checkpoint_store, job_log) in a table of its own.
template <class Server, class Store, class Options>
struct server_store_factory {
  using store_type = Store;
  auto make_store() -> std::unique_ptr<Store> {
    cleanup_.names.push_back(table_);
    return std::make_unique<Store>(Store::open(db_, Options{.table = table_}).value());
  }

 private:
  std::shared_ptr<typename Server::database> db_ = Server::open_db();
  std::string table_ = Server::table_name("store");
  dropped_tables<Server> cleanup_{db_, {}};
};

/// A dead-letter table of its own, kept to the microsecond.
template <class Server, class DeadLetterTable>
struct server_dead_letter_table_factory {
  using dlq_type = DeadLetterTable;
  static constexpr auto time_precision = std::chrono::microseconds{1};
  auto make_dlq() -> std::unique_ptr<dlq_type> {
    cleanup_.names.push_back(table_);
    auto dlq = std::make_unique<dlq_type>(dlq_type::open(db_, {.table = table_}).value());
    last_ = dlq.get();
    return dlq;
  }
  auto stored() -> std::vector<dead_letter> { return all_dead_letters(*last_); }

 private:
  std::shared_ptr<typename Server::database> db_ = Server::open_db();
  std::string table_ = Server::table_name("dlq");
  dropped_tables<Server> cleanup_{db_, {}};
  dlq_type* last_ = nullptr;
};

/// A table of `count` rows (id BIGINT PRIMARY KEY, name VARCHAR(64)), made by one INSERT, for
/// the source contract (pipeline/testing/source_contract.hpp).
template <class Server>
class server_row_table {
 public:
  static auto make_record(std::size_t i) -> record {
    return {{"id", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }

 protected:
  void fill(std::size_t count) {
    Server::exec(*db_, fmt::format("CREATE TABLE {} (id BIGINT PRIMARY KEY, name VARCHAR(64))", Server::quote(table_)));
    if (count == 0) return;
    std::vector<std::string> rows;
    for (std::size_t i = 0; i < count; ++i) rows.push_back(fmt::format("({0}, 'row-{0}')", i));
    Server::exec(*db_, fmt::format("INSERT INTO {} VALUES {}", Server::quote(table_), fmt::join(rows, ", ")));
  }
  std::shared_ptr<typename Server::database> db_ = Server::open_db();
  std::string table_ = Server::table_name("src");
  dropped_tables<Server> cleanup_{db_, {table_}};
};

/// The table read by its key, in pages of 3.
template <class Server>
struct server_keyset_source_factory : server_row_table<Server> {
  using source_type = typename Server::keyset_source;
  auto make_source(std::size_t count) -> std::unique_ptr<source_type> {
    this->fill(count);
    return std::make_unique<source_type>(
        source_type::open(this->db_, {.table = this->table_, .key_columns = {"id"}, .batch_size = 3}).value());
  }
};

/// The table read through a cursor ordered by id, 3 rows a batch.
template <class Server>
struct server_cursor_source_factory : server_row_table<Server> {
  using source_type = typename Server::cursor_source;
  auto make_source(std::size_t count) -> std::unique_ptr<source_type> {
    this->fill(count);
    return std::make_unique<source_type>(
        source_type::open(this->db_, {.query = fmt::format("SELECT id, name FROM {} ORDER BY id",
                                                           Server::quote(this->table_)),
                                      .batch_size = 3})
            .value());
  }
};

/// The factory lists of a server adapter, for PIPELINE_RELATIONAL_CONTRACTS: the table sink
/// in its three write modes, exactly-once mode on a plain INSERT, and one of each store
/// (`Server` also names checkpoint_store, dead_letter_table, job_log and their options).
template <class Server>
struct server_contract_factories {
  template <auto Mode>
  using sink = server_table_sink_factory<Server, Mode>;
  using table_sinks = ::testing::Types<sink<Server::write_mode::insert>, sink<Server::write_mode::upsert>,
                                       sink<Server::write_mode::insert_ignore>>;
  using exactly_once_sinks = ::testing::Types<sink<Server::write_mode::insert>>;
  using checkpoint_stores = ::testing::Types<
      server_store_factory<Server, typename Server::checkpoint_store, typename Server::checkpoint_store_options>>;
  using dead_letter_tables = ::testing::Types<server_dead_letter_table_factory<Server, typename Server::dead_letter_table>>;
  using job_logs =
      ::testing::Types<server_store_factory<Server, typename Server::job_log, typename Server::job_log_options>>;
};

}  // namespace pipeline::test

/// Instantiates every relational contract suite for `adapter` (a name: sqlite, mysql, …) with
/// the factory lists given (each a ::testing::Types); exactly-once mode runs on `exactly_once`,
/// a plain INSERT into a table with no key, the mode that needs it.
#define PIPELINE_RELATIONAL_CONTRACTS(adapter, table_sinks, exactly_once, checkpoint_stores, dead_letter_tables,   \
                                      job_logs)                                                                  \
  namespace pipeline::testing {                                                                                  \
  INSTANTIATE_TYPED_TEST_SUITE_P(adapter##_table_sink, sink_contract, table_sinks);                              \
  INSTANTIATE_TYPED_TEST_SUITE_P(adapter##_table_sink, transactional_sink_contract, exactly_once);               \
  INSTANTIATE_TYPED_TEST_SUITE_P(adapter##_checkpoint_store, checkpoint_store_contract, checkpoint_stores);      \
  INSTANTIATE_TYPED_TEST_SUITE_P(adapter##_dead_letter_table, dead_letter_sink_contract, dead_letter_tables);    \
  INSTANTIATE_TYPED_TEST_SUITE_P(adapter##_dead_letter_table, dead_letter_store_contract, dead_letter_tables);   \
  INSTANTIATE_TYPED_TEST_SUITE_P(adapter##_job_log, job_log_store_contract, job_logs);                           \
  }                                                                                                              \
  static_assert(true, "a semicolon after the macro")
