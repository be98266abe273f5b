#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <pipeline/detail/cursor_reader.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/source.hpp>

namespace pipeline::mysql {

struct cursor_source_options {
  /// One SELECT, read as a single snapshot (one statement sees one InnoDB read view). It
  /// takes no parameters: it is SQL the program writes, never built from input.
  std::string query{};
  std::size_t batch_size{1000};
  /// net_write_timeout for the session, in seconds: how long the server waits for this
  /// reader to take more rows before it drops the query. Long for slow consumers.
  std::chrono::seconds server_write_timeout{600};
};

/// Streams the rows of one long query with `mysql_use_result`: rows come off the socket as
/// batches are asked for, so memory stays at one batch however large the result. `seek(p)`
/// re-runs the query and reads and drops p rows; an abandoned read is cut off at once (its
/// socket shut down), not read to the end. Positions, contract and errors:
/// pipeline/detail/cursor_reader.hpp (a seekable_source of the count of rows handed out; one
/// reader; a connection of its own).
///
///     auto src = pipeline::mysql::cursor_source::open(db, {.query = "SELECT * FROM logs ORDER BY id"}).value();
using cursor_source = pipeline::detail::cursor_source<database, cursor_source_options>;

static_assert(pipeline::seekable_source<cursor_source>);

}  // namespace pipeline::mysql
