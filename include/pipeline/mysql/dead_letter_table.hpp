#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mysql {

struct dead_letter_table_options {
  /// The InnoDB table, created by `open` when missing: (`id` BIGINT AUTO_INCREMENT PRIMARY
  /// KEY, `payload` LONGBLOB, `kind` VARCHAR(32), `message` BLOB, `native_code` BIGINT,
  /// `backend` VARBINARY(64), `attempts` BIGINT, `position` BLOB, `partition` BIGINT,
  /// `time` DATETIME(6), `entry` VARBINARY(80) UNIQUE). Message and position are bytes, so
  /// that any message (a server's, quoting a binary value) is kept as it is.
  std::string table{"pipeline_dead_letters"};
};

/// A dead-letter queue in a MySQL table, one row per entry, read back in order for replay.
///
/// Idempotent for replayed batches, by the same rule as pipeline::sqlite's: after a crash (or
/// a lost COMMIT reply) the runner dead-letters a batch again, with the same letters in the
/// same order; an entry whose partition, position, payload hash and repeat count within its
/// `write` call are stored already (`entry`) is skipped. Two equal payloads in one call stay
/// two entries.
///
/// Contract: models `pipeline::dead_letter_sink`; one transaction per `write` (all entries or
/// none). Thread-safe (each call borrows a pooled connection); blocking. Times are kept to
/// the microsecond (UTC). A row that does not read back (edited by hand) is `permanent`.
///
///     auto dlq = pipeline::mysql::dead_letter_table::open(db).value();
///     auto page = dlq.read(0, 500).value();   // {id, letter} by increasing id
class dead_letter_table {
 public:
  /// Creates the table if missing. Throws std::invalid_argument if `db` is null or the table
  /// name is not an identifier, before any SQL is sent.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, const dead_letter_table_options& options = {})
      -> result<dead_letter_table>;

  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void>;

  /// Up to `limit` entries with an id above `after_id`, by increasing id, with their ids.
  [[nodiscard]] auto read(std::int64_t after_id, std::size_t limit)
      -> result<std::vector<std::pair<std::int64_t, dead_letter>>>;

 private:
  dead_letter_table(std::shared_ptr<database> db, std::string table) noexcept;
  std::shared_ptr<database> db_;
  std::string table_;  // quoted
};

static_assert(pipeline::dead_letter_sink<dead_letter_table>);

}  // namespace pipeline::mysql
