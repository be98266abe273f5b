#pragma once

#include <pipeline/checkpoint.hpp>
#include <pipeline/detail/relational/checkpoint_store.hpp>
#include <pipeline/postgres/database.hpp>

namespace pipeline::postgres {

/// The table, created by `open` when missing: ("key" BYTEA PRIMARY KEY, "position" BYTEA,
/// "version" BIGINT, "updated_at" TIMESTAMPTZ). Keys are compared byte for byte.
using checkpoint_store_options = pipeline::detail::relational::checkpoint_store_options;

/// Checkpoints in a PostgreSQL table, one row per key, fenced by version across threads,
/// connections, processes and machines: the shared relational checkpoint store
/// (pipeline/detail/relational/checkpoint_store.hpp) on PostgreSQL, a `pipeline::basic_checkpoint_store`
/// (whose header documents `load`, `save` and `keys`).
///
/// `save` is one statement: `UPDATE … SET version = version + 1 … WHERE key = $3 AND version
/// = $4` (an INSERT … ON CONFLICT ("key") DO NOTHING for expected version 0); when it changes
/// no row, the result is a `conflict` naming the stored version and nothing changed. A save
/// repeated after its reply was lost (the connection lost as it committed) finds its own
/// position at its version and succeeds, so a retry is safe. `updated_at` is the client's
/// time of the save. `table_sink::write_with_checkpoint` moves the same rows inside its
/// transaction.
///
/// Contract: thread-safe (each call borrows a pooled connection); blocking. A stored version
/// below 1 (edited by hand) loads as `permanent`. Server errors as `database` describes.
/// `open` throws std::invalid_argument if `db` is null or the table name is not an
/// identifier, before any SQL is sent.
///
///     auto store = pipeline::postgres::checkpoint_store::open(db).value();
///     auto cp = store.load("orders/p3");
///     auto v = store.save("orders/p3", batch.end, cp->version);   // conflict if another won
using checkpoint_store = pipeline::detail::relational::checkpoint_store<database>;

}  // namespace pipeline::postgres
