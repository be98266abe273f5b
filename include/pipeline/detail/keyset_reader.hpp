#pragma once

// What the keyset sources of the SQL adapters (mysql, postgres) share: their options, their
// two queries, and a reader that keeps the last key, turns a page of rows read after it into
// a batch (each record's own position is the key before it) and decodes a position back into
// a key. Each adapter only runs the queries.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <pipeline/batch.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail {

/// What a keyset source reads (each adapter names it `keyset_source_options` and says how its
/// filter marks parameters). Names are identifiers, quoted in the SQL.
struct keyset_options {
  std::string table{};
  /// The columns of a PRIMARY KEY or UNIQUE NOT NULL index, in its order: rows are read in
  /// this order and the last row's values are the position.
  std::vector<std::string> key_columns{};
  /// The columns read (the key columns are added when missing); empty reads every column.
  std::vector<std::string> columns{};
  /// A condition ANDed to the key range, its parameters `filter_parameters` (bound, never
  /// spliced). The filter is SQL the program writes: never build it from input.
  std::string filter{};
  std::vector<value> filter_parameters{};
  std::size_t batch_size{1000};
};

/// How a SQL dialect marks bound parameters: MySQL with `?` (in the order key, filter, limit),
/// PostgreSQL with `$n` (the filter's first, `$1` … `$n` as its author numbered them, then the
/// key's, then the limit).
enum class parameter_marks : std::uint8_t { question, numbered };

/// How a SQL adapter spells what its sources and planners send: `adapter` names it in
/// messages ("mysql"), `quote(name, what)` quotes a name after checking it (throwing
/// std::invalid_argument naming `what`), `marks` how it marks parameters. Each adapter has
/// one, in its src/.
struct sql_spelling {
  std::string_view adapter;
  std::string (*quote)(std::string_view name, std::string_view what);
  parameter_marks marks;

  /// Parameter n's placeholder (from 1).
  [[nodiscard]] auto mark(std::size_t n) const -> std::string {
    return marks == parameter_marks::question ? std::string{"?"} : fmt::format("${}", n);
  }
  /// Whether a filter's parameters come before a key's (so that it numbers its own from 1).
  [[nodiscard]] auto filter_first() const noexcept -> bool { return marks == parameter_marks::numbered; }

  /// The parameters `sql` (a filter) takes: its `?`, or its highest `$n`, outside quoted
  /// strings and names (MySQL's `'`, `"` and `` ` ``, with backslash escapes in strings;
  /// PostgreSQL's `'` and `"`, where a doubled quote closes and reopens: the same to us).
  [[nodiscard]] auto parameters_taken(std::string_view sql) const -> std::size_t {
    const bool question = marks == parameter_marks::question;
    std::size_t taken = 0;
    char open_quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
      const char c = sql[i];
      if (open_quote != 0) {
        if (question && c == '\\' && open_quote != '`') ++i;
        else if (c == open_quote) open_quote = 0;
      } else if (c == '\'' || c == '"' || (question && c == '`')) {
        open_quote = c;
      } else if (question && c == '?') {
        ++taken;
      } else if (!question && c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
        std::size_t n = 0;
        for (; i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9'; ++i) {
          n = n * 10 + static_cast<std::size_t>(sql[i + 1] - '0');
        }
        taken = std::max(taken, n);
      }
    }
    return taken;
  }
};

/// The queries of a keyset read: the first page, and the pages after a key
/// (`SELECT … WHERE (k1, k2) > (…) [AND (filter)] ORDER BY k1, k2 LIMIT …`, never OFFSET).
struct keyset_queries {
  std::string first;
  std::string next;
};

/// `options`' queries, after the checks made before any SQL is sent: throws
/// std::invalid_argument naming `who` when a name is not an identifier, `key_columns` is
/// empty, `batch_size` is 0, or the filter takes another number of parameters than given.
/// The key columns are added to `options.columns` when it names others.
[[nodiscard]] inline auto plan_keyset(keyset_options& options, std::string_view who, const sql_spelling& d)
    -> keyset_queries {
  const auto table = d.quote(options.table, fmt::format("{}: options.table", who));
  if (options.key_columns.empty()) throw std::invalid_argument(fmt::format("{}: options.key_columns is empty", who));
  if (options.batch_size == 0) throw std::invalid_argument(fmt::format("{}: options.batch_size is 0", who));
  const auto quoted = [&](const std::vector<std::string>& names, std::string_view what) {
    std::vector<std::string> out;
    for (const auto& n : names) out.push_back(d.quote(n, fmt::format("{}: options.{}", who, what)));
    return out;
  };
  const auto keys = quoted(options.key_columns, "key_columns");
  if (!options.columns.empty()) {
    for (const auto& k : options.key_columns) {
      if (std::find(options.columns.begin(), options.columns.end(), k) == options.columns.end()) {
        options.columns.push_back(k);
      }
    }
  }
  const auto projected = quoted(options.columns, "columns");
  const std::size_t filtered = options.filter_parameters.size();
  if (const std::size_t taken = d.parameters_taken(options.filter); taken != filtered) {
    throw std::invalid_argument(fmt::format("{}: options.filter takes {} parameters but {} filter_parameters are given",
                                            who, taken, filtered));
  }
  const std::size_t key_from = d.filter_first() ? filtered + 1 : 1;
  std::vector<std::string> marks;
  for (std::size_t i = 0; i < keys.size(); ++i) marks.push_back(d.mark(key_from + i));
  const auto select = projected.empty() ? std::string{"*"} : fmt::format("{}", fmt::join(projected, ", "));
  const auto filter = options.filter.empty() ? std::string{} : fmt::format("({})", options.filter);
  const auto order = [&](std::size_t limit) { return fmt::format("ORDER BY {} LIMIT {}", fmt::join(keys, ", "), d.mark(limit)); };
  const auto after = keys.size() == 1 ? fmt::format("{} > {}", keys.front(), marks.front())
                                      : fmt::format("({}) > ({})", fmt::join(keys, ", "), fmt::join(marks, ", "));
  return {fmt::format("SELECT {} FROM {}{}{} {}", select, table, filter.empty() ? "" : " WHERE ", filter,
                      order(filtered + 1)),
          fmt::format("SELECT {} FROM {} WHERE {}{}{} {}", select, table, after, filter.empty() ? "" : " AND ", filter,
                      order(filtered + keys.size() + 1))};
}

/// One page of rows as read: the batch, how many rows it covers (dead-lettered ones too) and
/// the key of the last.
struct keyset_page {
  batch<record> rows;
  std::size_t read = 0;
  std::optional<record> key;
};

/// `p` (a batch's end or a record's position) as a key of `key_columns`; `invalid_input`
/// naming `who` when it is not one.
[[nodiscard]] inline auto decode_keyset_position(const position& p, const std::vector<std::string>& key_columns,
                                                 std::string_view who) -> result<record> {
  auto key = record_codec{}.decode(p.bytes());
  if (!key) return invalid_input_error(fmt::format("{}: {}", who, key.error().message));
  bool fits = key->size() == key_columns.size();
  for (const auto& k : key_columns) fits = fits && key->contains(k);
  if (!fits) {
    return invalid_input_error(
        fmt::format("{}: position {} is not a key of ({})", who, *key, fmt::join(key_columns, ", ")));
  }
  return std::move(*key);
}

/// The rows `next_row(problem)` gives (a `result<std::optional<record>>`: nullopt after the
/// last; `problem` set for a row a value of which did not convert), read after the key `after`,
/// as a page: good rows as records, each positioned at the key before it; the others
/// dead-lettered with `invalid_input` at their own key. `context` starts an error's message.
template <class NextRow>
[[nodiscard]] auto read_keyset_page(const std::vector<std::string>& key_columns, const std::optional<record>& after,
                                    std::size_t batch_size, std::string_view context, NextRow&& next_row)
    -> result<keyset_page> {
  keyset_page p;
  auto& out = p.rows;
  out.records.reserve(batch_size);
  out.positions.reserve(batch_size);
  p.key = after;
  std::string before;  // the key before the row read next, encoded: that row's own position
  if (p.key) record_codec{}.encode(*p.key, before);
  for (std::optional<error> problem;; problem.reset()) {
    auto row = next_row(problem);
    if (!row) return std::move(row).error();
    if (!*row) break;
    ++p.read;
    record k;
    for (const auto& name : key_columns) {
      const value* v = (*row)->find(name);
      if (v == nullptr) return internal_error(fmt::format("{}: key column {} is not in the row", context, name));
      k.set(name, *v);
    }
    p.key = std::move(k);
    std::string encoded;
    record_codec{}.encode(*p.key, encoded);
    if (problem) {
      out.rejected.push_back(dead_letter{fmt::format("{}", **row), std::move(*problem), 0, position{encoded}, 0,
                                         std::chrono::system_clock::now()});
    } else {
      out.records.push_back(std::move(**row));
      out.positions.emplace_back(std::move(before));
    }
    before = std::move(encoded);
  }
  return p;
}

/// The batch of `page`, its end the last row's key, which becomes `last_key`; `exhausted` when
/// the page was short. nullopt when it read no row.
[[nodiscard]] inline auto finish_keyset_page(keyset_page page, std::size_t batch_size, std::optional<record>& last_key,
                                             bool& exhausted) -> std::optional<batch<record>> {
  if (page.read < batch_size) exhausted = true;
  if (page.read == 0) return std::nullopt;
  std::string encoded;
  record_codec{}.encode(*page.key, encoded);
  page.rows.end = position{std::move(encoded)};
  last_key = std::move(page.key);
  return std::move(page.rows);
}

/// Where a keyset read is (the last key read, whether the table is done) and its queries.
/// Not thread-safe: one reader.
class keyset_reader {
 public:
  keyset_reader(keyset_options options, keyset_queries queries) noexcept
      : options_(std::move(options)), queries_(std::move(queries)) {}

  [[nodiscard]] auto options() const noexcept -> const keyset_options& { return options_; }
  /// The LIMIT of a page.
  [[nodiscard]] auto limit() const -> value {
    return value{static_cast<std::int64_t>(
        std::min<std::size_t>(options_.batch_size, std::numeric_limits<std::int64_t>::max()))};
  }

  /// Resumes after the key `p` encodes (empty: from the start); `who` starts an error.
  [[nodiscard]] auto seek(const position& p, std::string_view who) -> result<void> {
    if (p.empty()) {
      last_key_.reset();
    } else {
      auto key = decode_keyset_position(p, options_.key_columns, who);
      if (!key) return std::move(key).error();
      last_key_ = std::move(*key);
    }
    exhausted_ = false;
    return ok();
  }

  /// The next page, from `query(sql, key)` (a `result<keyset_page>`, made with `read_page`):
  /// `sql` the query to run and `key` the last key's values in key order (empty for the first
  /// page). nullopt once the table is read.
  template <class Query>
  [[nodiscard]] auto next_batch(const std::stop_token& stop, Query&& query) -> result<std::optional<batch<record>>> {
    if (stop.stop_requested()) return stopped_error();
    if (exhausted_) return std::optional<batch<record>>{};
    std::vector<value> key;
    if (last_key_) {
      for (const auto& k : options_.key_columns) key.push_back(*last_key_->find(k));
    }
    auto page = query(last_key_ ? queries_.next : queries_.first, std::move(key));
    if (!page) return std::move(page).error();
    return finish_keyset_page(std::move(*page), options_.batch_size, last_key_, exhausted_);
  }

  /// The page of the rows `next_row` gives (read_keyset_page), read after the last key.
  template <class NextRow>
  [[nodiscard]] auto read_page(std::string_view context, NextRow&& next_row) const -> result<keyset_page> {
    return read_keyset_page(options_.key_columns, last_key_, options_.batch_size, context,
                            std::forward<NextRow>(next_row));
  }

 private:
  keyset_options options_;
  keyset_queries queries_;
  std::optional<record> last_key_;
  bool exhausted_ = false;
};

/// A SQL adapter's keyset source (users name it `mysql::keyset_source`,
/// `postgres::keyset_source`; the adapter defines the members for its `Database` in its src/).
///
/// Reads a table in key order, one page per batch, with
/// `SELECT … WHERE (k1, k2) > (…) [AND (filter)] ORDER BY k1, k2 LIMIT …`: never OFFSET, so
/// every page costs the same however deep it is, and rows inserted or deleted behind or
/// ahead of the read do not shift it (a row inserted ahead of the position is read; one
/// inserted behind it is not). Each batch's `end` is the key of its last row, encoded with
/// `record_codec`; `seek` to it resumes after that row. Each record's own position
/// (`batch::positions[i]`) is the key of the row before it (empty for the table's first
/// row), so seeking there reads it next. A row with a value that does not convert is put in
/// the batch's `rejected` with `invalid_input`, not dropped.
///
/// Contract: models `pipeline::seekable_source`. Not thread-safe (one reader); each page
/// borrows a pooled connection, and a page whose connection was lost is read again whole on
/// a new one (a read may be repeated). Blocking. Server errors as the adapter's `database`
/// says.
template <class Database>
class keyset_source {
 public:
  using value_type = record;

  /// Throws std::invalid_argument, before any SQL is sent, if `db` is null, a name is not an
  /// identifier, key_columns is empty, batch_size is 0, or the filter takes another number of
  /// parameters than filter_parameters holds (`plan_keyset`). The server checks the query
  /// here: a missing table or column is a `permanent` error.
  [[nodiscard]] static auto open(std::shared_ptr<Database> db, keyset_options options) -> result<keyset_source>;

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<record>>>;
  [[nodiscard]] auto seek(const position& p) -> result<void>;

 private:
  keyset_source(std::shared_ptr<Database> db, keyset_reader reader) noexcept
      : db_(std::move(db)), reader_(std::move(reader)) {}

  std::shared_ptr<Database> db_;
  keyset_reader reader_;
};

}  // namespace pipeline::detail
