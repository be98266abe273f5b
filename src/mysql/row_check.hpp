#pragma once

// The table sink's check of rows before they are sent (relational::row_check): the rows a
// MySQL/MariaDB table refuses under strict mode for their values alone, found from the
// table's column metadata (information_schema.COLUMNS) and the CHECK constraints it can judge
// (information_schema.CHECK_CONSTRAINTS, check_constraint.hpp), read once when the sink opens.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <pipeline/result.hpp>

#include "connection.hpp"
#include "relational/dialect.hpp"

namespace pipeline::mysql::detail {

/// The check for `plan`'s columns of its table in the connection's current database. Only
/// refusals the server is sure to make: NULL into NOT NULL (1048), a string longer than its
/// column (1406: characters for CHAR/VARCHAR, bytes for TEXT and binary types), an integer or
/// DECIMAL out of range (1264), text that is no number into an integer or DECIMAL column
/// (1366), a value that is no member of an ENUM (1265), an integer that breaks a CHECK made of
/// bounds on its column (4025). Anything it is unsure of is left to
/// the server.
[[nodiscard]] auto read_row_check(connection& c, const pipeline::detail::relational::sink_plan& plan)
    -> result<std::shared_ptr<const pipeline::detail::relational::row_check>>;

/// Of `rows`, sent by one INSERT IGNORE (or several, in order) that stored `inserted` of them
/// and raised `warnings` (SHOW WARNINGS rows: Level, Code, Message): the rows it skipped, in
/// index order, each with the server's duplicate-key message (`permanent`, 1062). nullopt when
/// that cannot be vouched for: a warning other than a duplicate key (a value changed, a foreign
/// key), a key the check does not know, an entry that may be cut, or skipped rows that cannot
/// be told apart. `check` is what `read_row_check` returned for `plan`.
[[nodiscard]] auto skipped_duplicates(const pipeline::detail::relational::row_check& check,
                                      const pipeline::detail::relational::sink_plan& plan,
                                      std::span<const record> rows, std::span<const record> warnings,
                                      std::uint64_t inserted) -> std::optional<std::vector<rejected_record>>;

/// For each column of the plan `check` was read for, whether it is CHAR, VARCHAR or TEXT in a
/// character set that is not utf8mb4 but reads ASCII as it does (latin1, latin2, ascii,
/// utf8mb3): ASCII text bound as bytes is stored there as it would be after the server's
/// conversion from the connection's utf8mb4, without that conversion. Empty for a check this
/// file did not make.
[[nodiscard]] auto ascii_stored_as_is(const pipeline::detail::relational::row_check& check) -> std::vector<bool>;

}  // namespace pipeline::mysql::detail
