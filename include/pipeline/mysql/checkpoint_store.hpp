#pragma once

#include <pipeline/checkpoint.hpp>
#include <pipeline/detail/relational/checkpoint_store.hpp>
#include <pipeline/mysql/database.hpp>

namespace pipeline::mysql {

/// The InnoDB table, created by `open` when missing: (`key` VARBINARY(767) PRIMARY KEY,
/// `position` LONGBLOB, `version` BIGINT, `updated_at` DATETIME(6)). Keys are compared
/// byte for byte (no collation folds "A" into "a").
using checkpoint_store_options = pipeline::detail::relational::checkpoint_store_options;

/// Checkpoints in a MySQL table, one row per key, fenced by version across threads,
/// connections, processes and machines: the shared relational checkpoint store
/// (pipeline/detail/relational/checkpoint_store.hpp) on MySQL, a `pipeline::basic_checkpoint_store`
/// (whose header documents `load`, `save` and `keys`).
///
/// `save` is one statement: `UPDATE … SET version = version + 1 … WHERE key = ? AND version = ?`
/// (an INSERT … ON DUPLICATE KEY UPDATE that changes nothing, for expected version 0); when
/// it changes no row, the result is a `conflict` naming the stored version and nothing
/// changed. A save repeated after its reply was lost (the connection killed as it
/// committed) finds its own position at its version and succeeds, so a retry is safe.
/// `updated_at` is the client's UTC time of the save. `table_sink::write_with_checkpoint`
/// moves the same rows inside its transaction.
///
/// Contract: thread-safe (each call borrows a pooled connection); blocking. A stored version
/// below 1 (edited by hand) loads as `permanent`. Server errors as `database` describes.
/// `open` throws std::invalid_argument if `db` is null or the table name is not an
/// identifier, before any SQL is sent.
///
///     auto store = pipeline::mysql::checkpoint_store::open(db).value();
///     auto cp = store.load("orders/p3");
///     auto v = store.save("orders/p3", batch.end, cp->version);   // conflict if another won
using checkpoint_store = pipeline::detail::relational::checkpoint_store<database>;

}  // namespace pipeline::mysql
