#pragma once

// Rows of a libpq result (text format) as records: column types mapped onto value kinds as
// docs/adapters/postgres.md's table says. Shared by the keyset and cursor sources and the
// partition planners.

#include <optional>
#include <string>

#include <libpq-fe.h>

#include <pipeline/record.hpp>

namespace pipeline::postgres::detail {

/// Row `row` of `r` as a record; the first cell that does not convert (an infinite or BC
/// time) is put in `problem` (when it is empty) and read as NULL.
[[nodiscard]] auto row_record(const PGresult* r, int row, std::optional<error>& problem) -> record;

/// Row `row` of `r` as the server wrote it, cells tab-separated, NULL as "NULL": the payload
/// of a dead letter for a row that did not convert.
[[nodiscard]] auto row_text(const PGresult* r, int row) -> std::string;

}  // namespace pipeline::postgres::detail
