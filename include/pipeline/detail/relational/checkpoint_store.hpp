#pragma once

#include <memory>
#include <string>
#include <utility>

#include <pipeline/basic_checkpoint_store.hpp>
#include <pipeline/checkpoint.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail::relational {

struct checkpoint_store_options {
  /// The table, created by `open` when missing; its columns and types are the adapter's
  /// (pipeline/sqlite/checkpoint_store.hpp, pipeline/mysql/checkpoint_store.hpp).
  std::string table{"pipeline_checkpoints"};
};

/// The checkpoint store of every SQL adapter, written once over the adapter's dialect
/// (docs/relational.md); users name it `sqlite::checkpoint_store`, `mysql::checkpoint_store`,
/// `postgres::checkpoint_store`. A `basic_checkpoint_store`: `load`, `save` and `keys` are
/// documented there.
///
/// One row per key, fenced by version: `save` is one statement, `UPDATE … SET version =
/// version + 1 … WHERE key = ? AND version = ?` (an INSERT that skips an existing key, for
/// expected version 0); when it changes no row the result is a `conflict` naming the stored
/// version, and nothing changed. A stored version below 1 (edited by hand) loads as
/// `permanent`, never as version 0, which would start the pipeline over. `keys` are in the
/// database's text order.
///
/// Contract: thread-safe (through the shared `Database`); blocking. Copies share the
/// database and the table. Errors as the adapter's `database` describes.
template <class Database>
class checkpoint_store : public pipeline::basic_checkpoint_store {
 public:
  /// Creates the table if it is missing. Throws std::invalid_argument if `db` is null or the
  /// table name is not an identifier ([A-Za-z_][A-Za-z0-9_]{0,63}), before any SQL is sent.
  [[nodiscard]] static auto open(std::shared_ptr<Database> db, const checkpoint_store_options& options = {})
      -> result<checkpoint_store>;

 private:
  explicit checkpoint_store(std::shared_ptr<pipeline::detail::checkpoint_backend> rows) noexcept
      : basic_checkpoint_store(std::move(rows)) {}
};

/// Stands for each adapter's database in the check below: the concept holds whatever the
/// database is, since only the members' declarations are read.
struct any_database;
static_assert(pipeline::checkpoint_store<checkpoint_store<any_database>>);

}  // namespace pipeline::detail::relational
