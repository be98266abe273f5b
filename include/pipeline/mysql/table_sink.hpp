#pragma once

#include <pipeline/detail/relational/table_sink.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/mysql/write_mode.hpp>

namespace pipeline::mysql {

/// Where and how a `table_sink` writes; names are backtick-quoted in the SQL. An upsert
/// matches every PRIMARY KEY and UNIQUE key of the table, so `key_columns` are optional (they
/// are checked against the other options when given). `rows_per_statement` rows go in one
/// array-bound execution. With `create_table`, a column without a type in `column_types` is
/// LONGBLOB (VARBINARY(255) for a key column), in an InnoDB table.
using table_sink_options = pipeline::detail::relational::table_sink_options;

/// Writes records as rows of a MySQL table: one transaction per batch, the rows sent with
/// array binding (STMT_ATTR_ARRAY_SIZE: one prepared INSERT executed for up to
/// `rows_per_statement` rows at once). The shared relational table sink
/// (pipeline/detail/relational/table_sink.hpp) on MySQL.
///
/// A write is all-or-nothing: a row the server refuses rolls the batch back, and the error
/// keeps the server's code and message (1062 duplicate, 1406 too long, 1366 bad value, 1264
/// out of range, 1048 NULL: `permanent`), so the runner bisects and dead-letters the row.
/// Deadlocks and lost connections are `transient` (retried; a lost connection is replaced).
/// Values: null → NULL; bool → 0/1; int64 → BIGINT; double → DOUBLE; string → text; bytes →
/// binary; timestamp → DATETIME(6) in UTC (`invalid_input` outside the years 0000-9999). A
/// column whose values mix kinds in one batch is sent as text, which the server converts.
///
/// Contract: models `pipeline::sink` (value_type `pipeline::record`). Thread-safe: each write
/// borrows a pooled connection, so workers write in parallel. Blocking. A stop requested
/// before a write returns `stopped`; one requested during it takes effect at the next chunk
/// of rows and rolls the batch back. If the connection is lost during the COMMIT of
/// `write_with_checkpoint` (`transient`), calling again with the same arguments is safe:
/// when the first COMMIT had landed, the call finds the checkpoint at `pos` and the next
/// version and returns that version without writing the rows again.
///
///     auto sink = pipeline::mysql::table_sink::open(db, {.table = "counts",
///         .columns = {"id", "name", "count"}, .mode = pipeline::mysql::write_mode::upsert,
///         .update_columns = {"name"}, .add_columns = {"count"}}).value();
///     auto r = sink.write(std::span{rows}, stop);
using table_sink = pipeline::detail::relational::table_sink<database>;

}  // namespace pipeline::mysql
