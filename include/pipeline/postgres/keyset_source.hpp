#pragma once

#include <pipeline/detail/keyset_reader.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/source.hpp>

namespace pipeline::postgres {

/// What a `keyset_source` reads (pipeline/detail/keyset_reader.hpp); names are double-quoted
/// in the SQL. The filter numbers its parameters `$1` … `$n`, e.g. `"status" = $1 AND
/// "created" >= $2`, n being the number of `filter_parameters`.
using keyset_source_options = pipeline::detail::keyset_options;

/// Reads a table in key order, one page per batch, with
/// `SELECT … WHERE ("k1", "k2") > ($n+1, $n+2) [AND (filter)] ORDER BY "k1", "k2" LIMIT $n+3`
/// (the filter's own parameters first, so that it numbers them from $1): never OFFSET, so
/// every page costs the same however deep it is, and rows inserted or deleted behind or ahead
/// of the read do not shift it (a row inserted ahead of the position is read; one inserted
/// behind it is not).
///
/// Each batch's `end` is the key of its last row, encoded with `record_codec`; `seek` to it
/// resumes after that row. Each record's own position (`batch::positions[i]`) is the key of
/// the row before it (empty for the table's first row), so seeking there reads it next.
/// Column types map to values as docs/adapters/postgres.md says: integers → int64, BOOLEAN →
/// bool, REAL/DOUBLE → double, NUMERIC → its exact text, BYTEA → bytes, TIMESTAMPTZ,
/// TIMESTAMP (read as UTC) and DATE → timestamp, NULL → null, anything else (TEXT, JSON, UUID
/// …) → its text. A row with a value that does not convert (an infinite or BC time) is put in
/// the batch's `rejected` with `invalid_input`, not dropped.
///
/// `open` throws std::invalid_argument, before any SQL is sent, if `db` is null, a name is
/// not an identifier, key_columns is empty, batch_size is 0, or the filter's highest `$n`
/// differs from the number of filter_parameters; the server checks the query: a missing
/// table or column is a `permanent` error.
///
/// Contract: models `pipeline::seekable_source`. Not thread-safe (one reader); each page
/// borrows a pooled connection, and a page whose connection was lost is read again on a new
/// one (a read may be repeated). Blocking. Server errors as `database` says.
///
///     auto src = pipeline::postgres::keyset_source::open(db, {.table = "users",
///         .key_columns = {"id"}, .filter = "\"active\" = $1", .filter_parameters = {true}}).value();
using keyset_source = pipeline::detail::keyset_source<database>;

static_assert(pipeline::seekable_source<keyset_source>);

}  // namespace pipeline::postgres
