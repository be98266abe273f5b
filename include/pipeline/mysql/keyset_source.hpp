#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/batch.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/source.hpp>

namespace pipeline::mysql {

/// What a `keyset_source` reads. Names are identifiers, backtick-quoted in the SQL.
struct keyset_source_options {
  std::string table{};
  /// The columns of a PRIMARY KEY or UNIQUE NOT NULL index, in its order: rows are read in
  /// this order and the last row's values are the position.
  std::vector<std::string> key_columns{};
  /// The columns read (the key columns are added when missing); empty reads every column.
  std::vector<std::string> columns{};
  /// A condition ANDed to the key range, e.g. "`status` = ? AND `created` >= ?", with `?`
  /// for each of `filter_parameters` (bound, never spliced). The filter is SQL the program
  /// writes: never build it from input.
  std::string filter{};
  std::vector<value> filter_parameters{};
  std::size_t batch_size{1000};
};

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
/// Contract: models `pipeline::seekable_source`. Not thread-safe (one reader); each page
/// borrows a pooled connection. Blocking. Server errors as `database` says (a lost
/// connection is `transient`: the runner's retry reads the same page again).
///
///     auto src = pipeline::mysql::keyset_source::open(db, {.table = "users",
///         .key_columns = {"id"}, .filter = "`active` = ?", .filter_parameters = {true}}).value();
class keyset_source {
 public:
  using value_type = record;

  /// Throws std::invalid_argument, before any SQL is sent, if `db` is null, a name is not an
  /// identifier, key_columns is empty, batch_size is 0, or the filter's `?` count differs
  /// from filter_parameters. The statement is prepared here: a missing table or column is
  /// a `permanent` error.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, keyset_source_options options)
      -> result<keyset_source>;

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<record>>>;
  [[nodiscard]] auto seek(const position& p) -> result<void>;

 private:
  keyset_source(std::shared_ptr<database> db, keyset_source_options options, std::string first_sql,
                std::string next_sql) noexcept;

  std::shared_ptr<database> db_;
  keyset_source_options options_;
  std::string first_sql_;  // the first page: no key condition
  std::string next_sql_;   // the pages after a key
  std::optional<record> last_key_;
  bool exhausted_ = false;
};

static_assert(pipeline::seekable_source<keyset_source>);

}  // namespace pipeline::mysql
