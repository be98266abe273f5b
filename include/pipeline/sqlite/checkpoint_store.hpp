#pragma once

#include <pipeline/checkpoint.hpp>
#include <pipeline/detail/relational/checkpoint_store.hpp>
#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite {

/// The table, created by `open` when missing:
/// `(key TEXT PRIMARY KEY, position BLOB NOT NULL, version INTEGER NOT NULL, updated_at TEXT)`.
using checkpoint_store_options = pipeline::detail::relational::checkpoint_store_options;

/// Checkpoints in a sqlite table, one row per key, with version fencing across threads,
/// connections and processes: the shared relational checkpoint store
/// (pipeline/detail/relational/checkpoint_store.hpp) on sqlite, a `pipeline::basic_checkpoint_store`
/// (whose header documents `load`, `save` and `keys`).
///
/// `save` is one statement: `UPDATE … SET version = version + 1 … WHERE key = ? AND version = ?`
/// (an INSERT … ON CONFLICT DO NOTHING for expected version 0); when it changes no row the
/// result is a `conflict` error naming the stored version, and nothing changed. Positions are
/// kept byte for byte (BLOB); `updated_at` is the save's UTC time as ISO-8601 text.
/// `table_sink::write_with_checkpoint` moves the same rows inside its data transaction.
///
/// Contract: thread-safe (through the shared `database`); blocking. A row whose version is
/// not a positive integer (edited by hand) loads as a `permanent` error, never as version 0,
/// which would start the pipeline over. sqlite errors as `database` describes. `open` throws
/// std::invalid_argument if `db` is null or the table name is not an identifier
/// ([A-Za-z_][A-Za-z0-9_]{0,63}), before any SQL is sent.
///
///     auto db = pipeline::sqlite::database::open("etl.db").value();
///     auto store = pipeline::sqlite::checkpoint_store::open(db).value();
///     auto cp = store.load("orders/p3");                          // {pos, version}
///     auto v = store.save("orders/p3", batch.end, cp->version);   // conflict if another won
using checkpoint_store = pipeline::detail::relational::checkpoint_store<database>;

}  // namespace pipeline::sqlite
