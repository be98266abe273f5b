#pragma once

#include <pipeline/detail/relational/table_sink.hpp>
#include <pipeline/sqlite/database.hpp>
#include <pipeline/sqlite/write_mode.hpp>

namespace pipeline::sqlite {

/// Where and how a `table_sink` writes; names are double-quoted in the SQL. An upsert needs
/// `key_columns` (its ON CONFLICT target: a PRIMARY KEY or UNIQUE index). `rows_per_statement`
/// does not apply: sqlite inserts row by row. With `create_table`, a column without a type in
/// `column_types` is declared without one, so it keeps each value as it is given.
using table_sink_options = pipeline::detail::relational::table_sink_options;

/// Writes records as rows of a sqlite table, one transaction per batch: the shared relational
/// table sink (pipeline/detail/relational/table_sink.hpp) on sqlite.
///
/// A write is all-or-nothing: a row that sqlite refuses rolls the whole batch back, and the
/// error names the row (0-based index in the batch), the table and sqlite's message, with
/// the extended result code (SQLITE_CONSTRAINT_CHECK, …), so that the runner's bisection
/// finds the row and dead-letters it. Values: null → NULL; bool → INTEGER 0/1; int64 →
/// INTEGER; double → REAL (NaN is `invalid_input`, since sqlite would store NULL); string →
/// TEXT (UTF-8, embedded NULs kept); bytes → BLOB; timestamp → TEXT
/// "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC (`invalid_input` outside the years 0000-9999).
///
/// Contract: models `pipeline::sink` (value_type `pipeline::record`). Thread-safe: writes
/// from many workers are serialised on the shared `database`. Blocking; waits up to the
/// database's busy_timeout for another process's write lock (then `transient`). A stop
/// requested before or during a write rolls it back and returns `stopped`.
///
///     auto sink = pipeline::sqlite::table_sink::open(db, {.table = "listings",
///         .columns = {"id", "price", "seen"}, .mode = pipeline::sqlite::write_mode::upsert,
///         .key_columns = {"id"}, .update_columns = {"price"}, .add_columns = {"seen"}}).value();
///     auto r = sink.write(std::span{rows}, stop);
using table_sink = pipeline::detail::relational::table_sink<database>;

}  // namespace pipeline::sqlite
