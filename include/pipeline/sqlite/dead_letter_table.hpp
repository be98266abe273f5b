#pragma once

#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/relational/dead_letter_table.hpp>
#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite {

/// The table, created by `open` when missing: `(id INTEGER PRIMARY KEY, payload BLOB,
/// kind TEXT, message TEXT, native_code INTEGER, backend TEXT, attempts INTEGER,
/// position BLOB, partition INTEGER, time TEXT, fingerprint TEXT)`, with a unique index
/// `<table>_entry` on (partition, position, fingerprint) (so the name must leave room for
/// the suffix). A table from before the fingerprint column gets it added.
using dead_letter_table_options = pipeline::detail::relational::dead_letter_table_options;

/// A dead-letter queue in a sqlite table, one row per entry, read back in order for replay:
/// the shared relational dead-letter table (pipeline/detail/relational/dead_letter_table.hpp)
/// on sqlite.
///
/// Each entry keeps its payload and position byte for byte (BLOB), the error's kind (as
/// `to_string` names it), message, native code and backend, the attempt count, the partition
/// and the time (UTC ISO-8601 text, to the microsecond). `id` increases in write order.
///
/// Idempotent for replayed batches: an entry whose partition, position, payload hash and
/// repeat count within its `write` call are already stored (`fingerprint` holds the hash and
/// count) is skipped, so the table holds each rejected record once. Two equal payloads in one
/// call stay two entries.
///
/// Contract: models `pipeline::dead_letter_sink`; one transaction per `write` (all entries or
/// none). Thread-safe (through the shared `database`); blocking. sqlite errors as `database`
/// describes; a row that does not read back as an entry (edited by hand) is a `permanent`
/// error naming its id.
///
///     auto dlq = pipeline::sqlite::dead_letter_table::open(db).value();
///     for (std::int64_t after = 0;;) {                      // replay, 500 at a time
///       auto page = dlq.read(after, 500).value();
///       if (page.empty()) break;
///       for (auto& [id, letter] : page) retry(letter.payload);
///       after = page.back().first;
///     }
using dead_letter_table = pipeline::detail::relational::dead_letter_table<database>;

}  // namespace pipeline::sqlite
