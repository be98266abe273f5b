#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <pipeline/checkpoint.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite {

struct checkpoint_store_options {
  /// The table, created by `open` when missing:
  /// `(key TEXT PRIMARY KEY, position BLOB NOT NULL, version INTEGER NOT NULL, updated_at TEXT)`.
  std::string table{"pipeline_checkpoints"};
};

/// Checkpoints in a sqlite table, one row per key, with version fencing across threads,
/// connections and processes.
///
/// `save` is one statement: `UPDATE … SET version = version + 1 … WHERE key = ? AND version = ?`
/// (an INSERT … ON CONFLICT DO NOTHING for expected version 0); when it changes no row the
/// result is a `conflict` error naming the stored version, and nothing changed. Positions are
/// kept byte for byte (BLOB); `updated_at` is the save's UTC time as ISO-8601 text.
/// `table_sink::write_with_checkpoint` moves the same rows inside its data transaction.
///
/// Contract: thread-safe (through the shared `database`); blocking. A row whose version is
/// not a positive integer (edited by hand) loads as a `permanent` error, never as version 0,
/// which would start the pipeline over. sqlite errors as `database` describes.
///
///     auto db = pipeline::sqlite::database::open("etl.db").value();
///     auto store = pipeline::sqlite::checkpoint_store::open(db).value();
///     auto cp = store.load("orders/p3");                          // {pos, version}
///     auto v = store.save("orders/p3", batch.end, cp->version);   // conflict if another won
class checkpoint_store {
 public:
  /// Creates the table if it is missing. Throws std::invalid_argument if `db` is null or the
  /// table name is not an identifier ([A-Za-z_][A-Za-z0-9_]{0,63}), before any SQL is sent.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, const checkpoint_store_options& options = {})
      -> result<checkpoint_store>;

  [[nodiscard]] auto load(std::string_view key) -> result<checkpoint>;
  [[nodiscard]] auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t>;

 private:
  checkpoint_store(std::shared_ptr<database> db, std::string table) noexcept;

  std::shared_ptr<database> db_;
  std::string table_;  // quoted
};

static_assert(pipeline::checkpoint_store<checkpoint_store>);

}  // namespace pipeline::sqlite
