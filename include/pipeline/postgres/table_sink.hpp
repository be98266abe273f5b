#pragma once

#include <pipeline/detail/relational/table_sink.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/postgres/write_mode.hpp>

namespace pipeline::postgres {

/// Where and how a `table_sink` writes; names are double-quoted in the SQL. An upsert needs
/// `key_columns` (its ON CONFLICT target). In `insert_ignore` and `upsert` modes up to
/// `rows_per_statement` rows go in one multi-row INSERT (fewer when rows × columns would pass
/// 65,535 parameters); `insert` ignores it (one COPY per batch). With `create_table`, a column
/// without a type in `column_types` is TEXT.
using table_sink_options = pipeline::detail::relational::table_sink_options;

/// Writes records as rows of a PostgreSQL table: one transaction per batch. A plain `insert`
/// sends the batch as one `COPY … FROM STDIN` (text format: each value as the text its
/// column type reads, escaped, never SQL); the modes with a conflict clause send multi-row
/// INSERTs with every value a bound parameter. The shared relational table sink
/// (pipeline/detail/relational/table_sink.hpp) on PostgreSQL.
///
/// A write is all-or-nothing: a row the server refuses rolls the batch back, and the error
/// keeps the SQLSTATE and message (23505 duplicate, 23502 NOT NULL, 23514 CHECK: `permanent`;
/// 22001 too long, 22003 out of range, 22P02 bad syntax: `invalid_input`), so the runner
/// bisects and dead-letters the row. `write_each` sends the batch under a SAVEPOINT, and when
/// the server refuses it, each row under its own, so only the refused rows come back.
/// Deadlocks, serialization failures and lost connections are `transient` (retried; a lost
/// connection is replaced). Values: null → NULL; bool → BOOLEAN; int64 → BIGINT; double →
/// DOUBLE PRECISION; string → text whose type the server infers from the column (so it fills
/// TEXT, NUMERIC, JSONB, UUID … columns); bytes → BYTEA; timestamp → TIMESTAMPTZ. In the
/// INSERT modes the server converts where PostgreSQL allows it on assignment (BIGINT into
/// INTEGER or TEXT, DOUBLE into INTEGER rounded) and refuses the rest (a bool into an INTEGER
/// column: 42804, `permanent`); COPY reads each value's text with the column's own input
/// (a bool or 1.5 into an INTEGER column: 22P02, `invalid_input`; a time outside the years
/// 0000-9999: `invalid_input` before sending). A string holding a NUL is `invalid_input`. An upsert whose batch holds one key twice is refused (21000,
/// `permanent`): the runner's bisection then writes the rows apart.
///
/// Contract: models `pipeline::sink` and `pipeline::per_record_sink` (value_type
/// `pipeline::record`), and the transactional (exactly-once) sink through `write_committed`.
/// Thread-safe: each write borrows a pooled connection, so workers write in parallel.
/// Blocking. A stop requested before a write returns `stopped`; one requested during it takes
/// effect at the next statement (or the next 256 kB of COPY data, which is aborted) and rolls
/// the batch back. If the connection is lost during
/// the COMMIT of `write_with_checkpoint` (`transient`), calling again with the same arguments
/// is safe, as for pipeline::mysql.
///
///     auto sink = pipeline::postgres::table_sink::open(db, {.table = "counts",
///         .columns = {"id", "name", "count"}, .mode = pipeline::postgres::write_mode::upsert,
///         .key_columns = {"id"}, .update_columns = {"name"}, .add_columns = {"count"}}).value();
///     auto r = sink.write(std::span{rows}, stop);
using table_sink = pipeline::detail::relational::table_sink<database>;

}  // namespace pipeline::postgres
