#pragma once

#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/relational/dead_letter_table.hpp>
#include <pipeline/mysql/database.hpp>

namespace pipeline::mysql {

/// The InnoDB table, created by `open` when missing: (`id` BIGINT AUTO_INCREMENT PRIMARY
/// KEY, `payload` LONGBLOB, `kind` VARCHAR(32), `message` BLOB, `native_code` BIGINT,
/// `backend` VARBINARY(64), `attempts` BIGINT, `position` BLOB, `partition` BIGINT,
/// `time` DATETIME(6), `entry` VARBINARY(80) UNIQUE). Message and position are bytes, so
/// that any message (a server's, quoting a binary value) is kept as it is.
using dead_letter_table_options = pipeline::detail::relational::dead_letter_table_options;

/// A dead-letter queue in a MySQL table, one row per entry, read back in order for replay:
/// the shared relational dead-letter table (pipeline/detail/relational/dead_letter_table.hpp)
/// on MySQL.
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
using dead_letter_table = pipeline::detail::relational::dead_letter_table<database>;

}  // namespace pipeline::mysql
