#pragma once

#include <pipeline/detail/keyset_reader.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/source.hpp>

namespace pipeline::mysql {

/// What a `keyset_source` reads (pipeline/detail/keyset_reader.hpp); names are
/// backtick-quoted in the SQL. The filter marks its parameters with `?`, e.g. "`status` = ?
/// AND `created` >= ?", one for each of `filter_parameters`.
using keyset_source_options = pipeline::detail::keyset_options;

/// Reads a table in key order, one page per batch, with a prepared
/// `SELECT … WHERE (k1, k2) > (?, ?) [AND (filter)] ORDER BY k1, k2 LIMIT ?`: never OFFSET, so
/// every page costs the same however deep it is, and rows inserted or deleted behind or
/// ahead of the read do not shift it (a row inserted ahead of the position is read; one
/// inserted behind it is not).
///
/// Each batch's `end` is the key of its last row, encoded with `record_codec`; `seek` to it
/// resumes after that row. Each record's own position (`batch::positions[i]`) is the key of
/// the row before it (empty for the table's first row), so seeking there reads it next.
/// Rows arrive as records with the column types mapped as
/// docs/adapters/mysql.md says (DECIMAL as exact decimal text; dates as UTC timestamps;
/// NULL; blobs as bytes). A row with a value that does not convert (a zero date) is put in
/// the batch's `rejected` with `invalid_input`, not dropped.
///
/// `open` throws std::invalid_argument, before any SQL is sent, if `db` is null, a name is
/// not an identifier, key_columns is empty, batch_size is 0, or the filter's `?` count
/// differs from filter_parameters; it prepares the statement: a missing table or column is a
/// `permanent` error.
///
/// Contract: models `pipeline::seekable_source`. Not thread-safe (one reader); each page
/// borrows a pooled connection. Blocking. Server errors as `database` says (a lost
/// connection is `transient`: the runner's retry reads the same page again).
///
///     auto src = pipeline::mysql::keyset_source::open(db, {.table = "users",
///         .key_columns = {"id"}, .filter = "`active` = ?", .filter_parameters = {true}}).value();
using keyset_source = pipeline::detail::keyset_source<database>;

static_assert(pipeline::seekable_source<keyset_source>);

}  // namespace pipeline::mysql
