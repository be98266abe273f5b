#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <pipeline/detail/cursor_reader.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/record.hpp>
#include <pipeline/source.hpp>

namespace pipeline::postgres {

struct cursor_source_options {
  /// One SELECT (or VALUES), read as a single snapshot. It is SQL the program writes, never
  /// built from input: values go in `parameters`, as `$1` … `$n`.
  std::string query{};
  /// The values of the query's `$1` … `$n`, bound (never spliced into the SQL).
  std::vector<value> parameters{};
  std::size_t batch_size{1000};
  /// idle_in_transaction_session_timeout of the cursor's transaction: how long the server
  /// waits for this reader to fetch more rows before it ends the session. Long for slow
  /// consumers.
  std::chrono::seconds server_idle_timeout{600};
};

/// Streams the rows of one long query through a server-side cursor: `DECLARE … NO SCROLL
/// CURSOR` in a transaction of its own, `FETCH FORWARD batch_size` per batch, so the server
/// produces rows as batches are asked for and memory on both sides stays at one batch however
/// large the result. `seek(p)` re-runs the query and skips p rows on the server (`MOVE FORWARD
/// p`: they are not sent); an abandoned read ends with its connection (the server drops the
/// cursor with the transaction). Column types map as `keyset_source`'s do. Positions,
/// contract and errors: pipeline/detail/cursor_reader.hpp (a seekable_source of the count of
/// rows handed out; one reader; a connection of its own).
///
///     auto src = pipeline::postgres::cursor_source::open(db, {.query = "SELECT * FROM logs WHERE day = $1 ORDER BY id",
///                                                             .parameters = {day}}).value();
using cursor_source = pipeline::detail::cursor_source<database, cursor_source_options>;

static_assert(pipeline::seekable_source<cursor_source>);

}  // namespace pipeline::postgres
