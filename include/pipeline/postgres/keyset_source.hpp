#pragma once

#include <pipeline/detail/keyset_reader.hpp>
#include <pipeline/postgres/database.hpp>

namespace pipeline::postgres {

/// Names are double-quoted in the SQL; the filter numbers its parameters `$1` … `$n`, e.g.
/// `"status" = $1 AND "created" >= $2`, n being the number of `filter_parameters`.
using keyset_source_options = pipeline::detail::keyset_options;

/// A table read in key order, `SELECT … WHERE ("k1", "k2") > ($n+1, $n+2) [AND (filter)]
/// ORDER BY "k1", "k2" LIMIT $n+3` per batch (the filter's own parameters first):
/// pipeline/detail/keyset_reader.hpp has the contract. Column types map to values as
/// docs/adapters/postgres.md says: integers → int64, BOOLEAN → bool, REAL/DOUBLE → double,
/// NUMERIC → its exact text, BYTEA → bytes, TIMESTAMPTZ, TIMESTAMP (read as UTC) and DATE →
/// timestamp, NULL → null, anything else (TEXT, JSON, UUID …) → its text; an infinite or BC
/// time is a rejected row.
///
///     auto src = pipeline::postgres::keyset_source::open(db, {.table = "users",
///         .key_columns = {"id"}, .filter = "\"active\" = $1", .filter_parameters = {true}}).value();
using keyset_source = pipeline::detail::keyset_source<database>;

}  // namespace pipeline::postgres
