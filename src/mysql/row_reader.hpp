#pragma once

// Rows read from the server as records: column types mapped onto value kinds the same way
// for the text protocol (mysql_use_result / mysql_store_result) and the binary protocol of
// prepared statements. The mapping is docs/adapters/mysql.md's table.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mysql.h>

#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

#include "connection.hpp"

namespace pipeline::mysql::detail {

/// How a column's values become values.
enum class column_kind : std::uint8_t {
  integer,   ///< TINYINT … BIGINT, YEAR: int64 (an unsigned BIGINT above 2^63-1: decimal string)
  floating,  ///< FLOAT, DOUBLE: double
  datetime,  ///< DATE, DATETIME, TIMESTAMP: timestamp (UTC; a DATE at midnight)
  bit,       ///< BIT(n): int64 (as integer above)
  binary,    ///< BINARY, VARBINARY, BLOBs (charset 63): bytes
  text,      ///< everything else, DECIMAL included (exact), as string
};

[[nodiscard]] auto kind_of_field(const MYSQL_FIELD& f) noexcept -> column_kind;

/// One text-protocol cell; `data` null is NULL. An `invalid_input` error for a date that is
/// no point in time ('0000-00-00') or a number that does not parse.
[[nodiscard]] auto decode_text(const MYSQL_FIELD& f, const char* data, unsigned long length) -> result<value>;

/// A text-protocol row as a record, or the first cell that does not decode.
[[nodiscard]] auto decode_text_row(const MYSQL_FIELD* fields, unsigned int count, MYSQL_ROW row,
                                   const unsigned long* lengths) -> result<record>;

/// Runs `sql` and reads at most `limit` rows (0: all) into memory: for small results only.
[[nodiscard]] auto query_records(connection& c, std::string_view sql, std::size_t limit) -> result<std::vector<record>>;

/// The rows of an executed prepared statement, fetched one at a time from the socket
/// (unbuffered): read them all (or destroy this, which frees the rest) before the
/// connection runs anything else. Grows a cell's buffer when a value is longer.
class statement_rows {
 public:
  /// Binds result buffers for the statement's columns; call after a successful execute.
  [[nodiscard]] static auto open(statement& st, std::string context) -> result<statement_rows>;
  statement_rows(statement_rows&&) noexcept;
  auto operator=(statement_rows&&) noexcept -> statement_rows&;
  ~statement_rows();

  /// The next row; nullopt after the last. A cell that does not decode (a zero date) is
  /// NULL in the record and its `invalid_input` error is put in `problem`, so that the
  /// caller can reject the row and still read its key.
  [[nodiscard]] auto next(std::optional<error>& problem) -> result<std::optional<record>>;

 private:
  struct state;
  explicit statement_rows(std::unique_ptr<state> s) noexcept;
  std::unique_ptr<state> state_;
};

/// Every row of an executed statement, read into memory: for small results only.
[[nodiscard]] auto fetch_records(statement& st, std::string_view context) -> result<std::vector<record>>;

/// Prepares `sql`, binds `params`, executes, and reads every row (small results).
[[nodiscard]] auto select_records(connection& c, std::string_view sql, std::span<const value> params,
                                  std::string_view context) -> result<std::vector<record>>;

}  // namespace pipeline::mysql::detail
