#pragma once

// The members of the relational checkpoint_store (over its backend, `checkpoint_rows`),
// dead_letter_table, job_log and table_sink templates (include/pipeline/detail/relational/),
// for an adapter to instantiate for its `database` in the source file that specialises
// `backend` for it (src/<adapter>/dialect.cpp):
//
//     template <> struct pipeline::detail::relational::backend<pipeline::sqlite::database> { … };
//     PIPELINE_RELATIONAL_INSTANTIATE(pipeline::sqlite::database);
//
// They only take a connection and call the SQL of stores.hpp, which is compiled once.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/detail/relational/checkpoint_store.hpp>
#include <pipeline/detail/relational/dead_letter_table.hpp>
#include <pipeline/detail/relational/job_log.hpp>
#include <pipeline/detail/relational/table_sink.hpp>

#include "relational/dialect.hpp"
#include "relational/stores.hpp"

namespace pipeline::detail::relational {

/// What an adapter tells the shared layer about its `Database`:
///
///     static auto sql_dialect() noexcept -> const dialect&;                // one, static
///     static auto connect(Database& db, const std::stop_token& stop)       // for one operation;
///         -> result<connection_ptr>;                                       // `stop` ends a wait for it
template <class Database>
struct backend;

/// A `backend` for a server adapter: each connection is a lease `borrow(db, stop)` gives
/// (from the adapter's pool, waiting out an outage), wrapped in `Connection`, the adapter's
/// `connection`; `sql_dialect` is `the_dialect`. Derive the specialisation from it.
template <class Database, class Connection, auto borrow, const auto& the_dialect>
struct borrowing_backend {
  static auto connect(Database& db, const std::stop_token& stop) -> result<connection_ptr> {
    auto c = borrow(db, stop);
    if (!c) return std::move(c).error();
    return std::make_unique<Connection>(std::move(*c));
  }
  static auto sql_dialect() noexcept -> const dialect& { return the_dialect; }
};

/// `body(connection&)` on a connection of `db` held for its length; `stop` ends a wait for one
/// (a server adapter waits out an outage at connect).
template <class Database, class Body>
auto with_connection(Database& db, const std::stop_token& stop, Body&& body)
    -> decltype(body(std::declval<connection&>())) {
  auto c = backend<Database>::connect(db, stop);
  if (!c) return std::move(c).error();
  return body(**c);
}

/// The quoted table of a store of `db` called `type`, checked, and created when missing.
template <class Database>
auto open_store_table(const std::shared_ptr<Database>& db, std::string_view type, store_table which,
                      std::string_view table) -> result<std::string> {
  auto quoted = checked_table(db != nullptr, backend<Database>::sql_dialect(), type, table);
  auto created = with_connection(
      *db, {}, [&](connection& c) { return c.sql_dialect().create_store_table(c, which, table, quoted); });
  if (!created) return std::move(created).error();
  return quoted;
}

/// The checkpoints in one table of `Database`: the backend of `checkpoint_store<Database>`.
template <class Database>
class checkpoint_rows final : public pipeline::detail::checkpoint_backend {
 public:
  checkpoint_rows(std::shared_ptr<Database> db, std::string table) noexcept
      : db_(std::move(db)), table_(std::move(table)) {}

  auto load(std::string_view key) -> result<checkpoint> override {
    return with_connection(*db_, {}, [&](connection& c) { return load_checkpoint(c, table_, key); });
  }

  auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> override {
    return with_connection(*db_, {}, [&](connection& c) -> result<std::uint64_t> {
      auto saved = save_checkpoint(c, table_, key, pos, expected_version);
      if (!saved) return std::move(saved).error();
      return saved->version;
    });
  }

  auto keys() -> result<std::vector<std::string>> override {
    return with_connection(*db_, {}, [&](connection& c) { return select_distinct(c, table_, "key"); });
  }

 private:
  std::shared_ptr<Database> db_;
  std::string table_;  // quoted
};

template <class Database>
auto checkpoint_store<Database>::open(std::shared_ptr<Database> db, const checkpoint_store_options& options)
    -> result<checkpoint_store> {
  auto table = open_store_table(db, "checkpoint_store", store_table::checkpoints, options.table);
  if (!table) return std::move(table).error();
  return checkpoint_store{std::make_shared<checkpoint_rows<Database>>(std::move(db), std::move(*table))};
}

/// The dead letters of `dead_letter_table<Database>`: the rows of `table` (quoted) on `db`.
template <class Database>
class dead_letter_rows final : public pipeline::detail::dead_letter_backend {
 public:
  dead_letter_rows(std::shared_ptr<Database> db, std::string table) noexcept
      : db_(std::move(db)), table_(std::move(table)) {}

  auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (letters.empty()) return ok();
    return with_connection(*db_, stop, [&](connection& c) {
      return in_transaction(c, [&] { return insert_dead_letters(c, table_, letters); });
    });
  }

  auto read(const dead_letter_filter& filter, const std::optional<std::string>& after_id, std::size_t limit,
            std::stop_token stop) -> result<std::vector<stored_dead_letter>> override {
    if (stop.stop_requested()) return stopped_error();
    return with_connection(*db_, stop,
                           [&](connection& c) { return select_dead_letters(c, table_, filter, after_id, limit); });
  }

  auto resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (ids.empty()) return ok();
    return with_connection(*db_, stop, [&](connection& c) {
      return in_transaction(c, [&] { return delete_dead_letters(c, table_, ids); });
    });
  }

  auto record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (failures.empty()) return ok();
    return with_connection(*db_, stop, [&](connection& c) {
      return in_transaction(c, [&] { return record_dead_letter_failures(c, table_, failures); });
    });
  }

  auto purge(const dead_letter_filter& filter, std::stop_token stop) -> result<std::size_t> override {
    if (stop.stop_requested()) return stopped_error();
    return with_connection(*db_, stop, [&](connection& c) { return purge_dead_letters(c, table_, filter); });
  }

  /// `dead_letter_table::read(after_id, limit)`.
  auto read(std::int64_t after_id, std::size_t limit) -> result<std::vector<std::pair<std::int64_t, dead_letter>>> {
    return with_connection(*db_, {}, [&](connection& c) { return select_dead_letters(c, table_, after_id, limit); });
  }

  [[nodiscard]] auto db() const noexcept -> const std::shared_ptr<Database>& { return db_; }
  [[nodiscard]] auto table() const noexcept -> const std::string& { return table_; }

 private:
  std::shared_ptr<Database> db_;
  std::string table_;
};

template <class Database>
auto dead_letter_table<Database>::open(std::shared_ptr<Database> db, const dead_letter_table_options& options)
    -> result<dead_letter_table> {
  auto table = open_store_table(db, "dead_letter_table", store_table::dead_letters, options.table);
  if (!table) return std::move(table).error();
  return dead_letter_table{std::make_shared<dead_letter_rows<Database>>(std::move(db), std::move(*table))};
}

template <class Database>
auto dead_letter_table<Database>::read(std::int64_t after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::int64_t, dead_letter>>> {
  return static_cast<dead_letter_rows<Database>&>(backend()).read(after_id, limit);
}

template <class Database>
auto job_log<Database>::open(std::shared_ptr<Database> db, const job_log_options& options) -> result<job_log> {
  auto table = open_store_table(db, "job_log", store_table::job_runs, options.table);
  if (!table) return std::move(table).error();
  return job_log{std::move(db), std::move(*table)};
}

template <class Database>
auto job_log<Database>::create(const job_run& run) -> result<std::uint64_t> {
  return with_connection(*db_, {}, [&](connection& c) { return insert_run(c, table_, run); });
}

template <class Database>
auto job_log<Database>::update(const job_run& run) -> result<void> {
  return with_connection(*db_, {}, [&](connection& c) {
    return in_transaction(c, [&] { return update_run(c, table_, run); });
  });
}

template <class Database>
auto job_log<Database>::runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> {
  return with_connection(*db_, {}, [&](connection& c) { return select_runs(c, table_, job, limit); });
}

template <class Database>
auto job_log<Database>::jobs() -> result<std::vector<std::string>> {
  return with_connection(*db_, {}, [&](connection& c) { return select_distinct(c, table_, "job"); });
}

template <class Database>
auto table_sink<Database>::open(std::shared_ptr<Database> db, const table_sink_options& options)
    -> result<table_sink> {
  auto plan = plan_sink(db != nullptr, backend<Database>::sql_dialect(), options);
  if (auto opened = with_connection(*db, {}, [&](connection& c) { return open_sink(c, options, plan); }); !opened) {
    return std::move(opened).error();
  }
  return table_sink{std::move(db), std::move(plan), std::make_shared<ledger_gate>()};
}

template <class Database>
auto table_sink<Database>::shares_transactions_with(const dead_letter_table<Database>& dlq) const noexcept -> bool {
  return static_cast<const dead_letter_rows<Database>&>(dlq.backend()).db() == db_;
}

template <class Database>
auto table_sink<Database>::write(std::span<const record> records, std::stop_token stop) -> result<void> {
  return write_rows_then(records, stop, nullptr);
}

template <class Database>
auto table_sink<Database>::write(std::span<const record> records, std::stop_token stop, letters shared)
    -> result<void> {
  const auto also = letters_step(shared);
  return write_rows_then(records, stop, &also);
}

template <class Database>
auto table_sink<Database>::write_rows_then(std::span<const record> records, const std::stop_token& stop,
                                           const transaction_step* also) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  if (records.empty() && also == nullptr) return ok();
  return with_connection(*db_, stop, [&](connection& c) { return write_rows(c, plan_, records, stop, also); });
}

template <class Database>
auto table_sink<Database>::write_each(std::span<const record> records, std::stop_token stop)
    -> result<std::vector<rejected_record>> {
  return write_each_then(records, stop, nullptr);
}

template <class Database>
auto table_sink<Database>::write_each(std::span<const record> records, std::stop_token stop, letters shared)
    -> result<std::vector<rejected_record>> {
  const auto also = letters_step(shared);
  return write_each_then(records, stop, &also);
}

template <class Database>
auto table_sink<Database>::write_each_then(std::span<const record> records, const std::stop_token& stop,
                                           const transaction_step* also) -> result<std::vector<rejected_record>> {
  if (stop.stop_requested()) return stopped_error();
  if (records.empty() && also == nullptr) return std::vector<rejected_record>{};
  return with_connection(*db_, stop, [&](connection& c) { return write_rows_each(c, plan_, records, stop, also); });
}

template <class Database>
auto table_sink<Database>::letters_step(const letters& shared) -> transaction_step {
  const auto& rows = static_cast<const dead_letter_rows<Database>&>(shared.dlq.backend());
  return [&rows, &shared](connection& c) { return insert_dead_letters(c, rows.table(), shared.letters); };
}

template <class Database>
auto table_sink<Database>::write_with_checkpoint(std::span<const record> records, std::string_view key,
                                                 const position& pos, std::uint64_t expected_version,
                                                 std::stop_token stop) -> result<std::uint64_t> {
  if (stop.stop_requested()) return stopped_error();
  return with_connection(*db_, stop, [&](connection& c) {
    return write_rows_with_checkpoint(c, plan_, records, key, pos, expected_version, stop);
  });
}

template <class Database>
auto table_sink<Database>::write_committed(std::span<const record> records, const committed_batch& entry,
                                           std::stop_token stop) -> result<void> {
  return write_committed(records, entry, std::move(stop), transaction_step{});
}

template <class Database>
auto table_sink<Database>::write_committed(std::span<const record> records, const committed_batch& entry,
                                           std::stop_token stop, const transaction_step& also) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  return with_connection(*db_, stop, [&](connection& c) -> result<void> {
    if (auto ready = gate_->ensure(c, plan_.batch_name, plan_.batch_table); !ready) return ready;
    return write_rows_committed(c, plan_, records, entry, stop, &also);
  });
}

template <class Database>
auto table_sink<Database>::write_committed(std::span<const record> records, const committed_batch& entry,
                                           std::stop_token stop, letters shared) -> result<void> {
  return write_committed(records, entry, std::move(stop), letters_step(shared));
}

template <class Database>
auto table_sink<Database>::committed_batches(std::string_view job, std::stop_token stop)
    -> result<std::vector<committed_batch>> {
  if (stop.stop_requested()) return stopped_error();
  return with_connection(*db_, stop, [&](connection& c) -> result<std::vector<committed_batch>> {
    if (auto ready = gate_->ensure(c, plan_.batch_name, plan_.batch_table); !ready) return std::move(ready).error();
    return select_batches(c, plan_.batch_table, job);
  });
}

template <class Database>
auto table_sink<Database>::forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence,
                                          std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  return with_connection(*db_, stop, [&](connection& c) -> result<void> {
    if (auto ready = gate_->ensure(c, plan_.batch_name, plan_.batch_table); !ready) return ready;
    return delete_batches(c, plan_.batch_table, job, run, sequence);
  });
}

}  // namespace pipeline::detail::relational

/// `backend` for `pipeline::<adapter>::database`, a server adapter whose src/<adapter>/dialect.cpp
/// defines `detail::relational_connection` (made from a lease), `detail::the_dialect` and
/// `detail::database_access::borrow`, and the instantiations; at global scope.
#define PIPELINE_RELATIONAL_POOLED_ADAPTER(adapter)                                                         \
  template <>                                                                                               \
  struct pipeline::detail::relational::backend<pipeline::adapter::database>                                 \
      : pipeline::detail::relational::borrowing_backend<pipeline::adapter::database, pipeline::adapter::detail::relational_connection,    \
                          &pipeline::adapter::detail::database_access::borrow,                              \
                          pipeline::adapter::detail::the_dialect> {};                                       \
  PIPELINE_RELATIONAL_INSTANTIATE(pipeline::adapter::database)

/// The explicit instantiations of the four types for `Database`, at global scope after
/// `backend<Database>`: their members are compiled only there, in the adapter's library.
#define PIPELINE_RELATIONAL_INSTANTIATE(Database)                             \
  template class pipeline::detail::relational::checkpoint_store<Database>;  \
  template class pipeline::detail::relational::dead_letter_table<Database>; \
  template class pipeline::detail::relational::job_log<Database>;           \
  template class pipeline::detail::relational::table_sink<Database>
