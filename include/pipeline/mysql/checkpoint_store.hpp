#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <pipeline/checkpoint.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mysql {

struct checkpoint_store_options {
  /// The InnoDB table, created by `open` when missing: (`key` VARBINARY(767) PRIMARY KEY,
  /// `position` LONGBLOB, `version` BIGINT, `updated_at` DATETIME(6)). Keys are compared
  /// byte for byte (no collation folds "A" into "a").
  std::string table{"pipeline_checkpoints"};
};

/// Checkpoints in a MySQL table, one row per key, fenced by version across threads,
/// connections, processes and machines.
///
/// `save` is one statement: `UPDATE … SET version = version + 1 … WHERE key = ? AND version = ?`
/// (an INSERT … ON DUPLICATE KEY UPDATE that changes nothing, for expected version 0); when
/// it changes no row, the result is a `conflict` naming the stored version and nothing
/// changed. A save repeated after its reply was lost (the connection killed as it
/// committed) finds its own position at its version and succeeds, so a retry is safe.
/// `table_sink::write_with_checkpoint` moves the same rows inside its transaction.
///
/// Contract: thread-safe (each call borrows a pooled connection); blocking. A stored version
/// below 1 (edited by hand) loads as `permanent`. Server errors as `database` describes.
///
///     auto store = pipeline::mysql::checkpoint_store::open(db).value();
///     auto cp = store.load("orders/p3");
///     auto v = store.save("orders/p3", batch.end, cp->version);   // conflict if another won
class checkpoint_store {
 public:
  /// Creates the table if missing. Throws std::invalid_argument if `db` is null or the table
  /// name is not an identifier, before any SQL is sent.
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

}  // namespace pipeline::mysql
