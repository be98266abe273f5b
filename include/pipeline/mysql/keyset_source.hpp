#pragma once

#include <pipeline/detail/keyset_reader.hpp>
#include <pipeline/mysql/database.hpp>

namespace pipeline::mysql {

/// Names are backtick-quoted in the SQL; the filter marks its parameters with `?`, e.g.
/// "`status` = ? AND `created` >= ?", one for each of `filter_parameters`.
using keyset_source_options = pipeline::detail::keyset_options;

/// A table read in key order, a prepared `SELECT … WHERE (k1, k2) > (?, ?) [AND (filter)]
/// ORDER BY k1, k2 LIMIT ?` per batch: pipeline/detail/keyset_reader.hpp has the contract.
/// Column types map as docs/adapters/mysql.md says (DECIMAL as exact decimal text; dates as
/// UTC timestamps; NULL; blobs as bytes); a zero date is a rejected row.
///
///     auto src = pipeline::mysql::keyset_source::open(db, {.table = "users",
///         .key_columns = {"id"}, .filter = "`active` = ?", .filter_parameters = {true}}).value();
using keyset_source = pipeline::detail::keyset_source<database>;

}  // namespace pipeline::mysql
