#pragma once

// What the cursor sources of the SQL adapters (mysql, postgres) share: the class users hold,
// its position (the count of rows handed out) and the batch a fetch fills. Each adapter only
// opens its cursor and fetches rows from it (src/relational/cursor_source.hpp says how).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include <pipeline/batch.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail {

/// The rows one fetch gives, each record positioned at the count of rows before it, each
/// row that did not convert dead-lettered at the count up to and including it.
class counted_rows {
 public:
  counted_rows(std::int64_t before, std::size_t expected) : before_(before) {
    rows_.records.reserve(expected);
    rows_.positions.reserve(expected);
  }
  void add(record r) {
    rows_.records.push_back(std::move(r));
    rows_.positions.push_back(position::from_integer(before_ + static_cast<std::int64_t>(read_++)));
  }
  /// A row whose value did not convert: `payload` is its text, `why` an `invalid_input` error.
  void reject(std::string payload, error why) {
    rows_.rejected.push_back(dead_letter{std::move(payload), std::move(why), 0,
                                         position::from_integer(before_ + static_cast<std::int64_t>(++read_)), 0,
                                         std::chrono::system_clock::now()});
  }
  [[nodiscard]] auto read() const noexcept -> std::size_t { return read_; }
  [[nodiscard]] auto take() && -> batch<record> { return std::move(rows_); }

 private:
  std::int64_t before_;
  std::size_t read_ = 0;
  batch<record> rows_;
};

/// An adapter's open cursor (its connection and result): each adapter defines it for its
/// `Database` in its src/.
template <class Database>
struct cursor_stream;

/// A SQL adapter's cursor source: users name it `mysql::cursor_source`,
/// `postgres::cursor_source` (whose headers document it and `Options`, which have at least
/// `query` and `batch_size`). The adapter defines its members in its src/.
///
/// Positions are the count of rows handed out; a record's own position
/// (`batch::positions[i]`) is the count of rows before it. A snapshot read cannot resume in
/// the middle: `seek(p)` restarts the query and skips p rows, which is right only when the
/// query has an ORDER BY on a unique key and the rows before p did not change; prefer a
/// keyset source where resuming matters. A row whose value does not convert goes to the
/// batch's `rejected`.
///
/// Contract: models `pipeline::seekable_source`. Not thread-safe (one reader). Holds a
/// connection of its own (outside the pool) while the query runs, closed on exhaustion, on
/// error and on destruction. Blocking. A lost connection is `transient`: the next call
/// re-runs the query and skips the rows already handed out.
template <class Database, class Options>
class cursor_source {
 public:
  using value_type = record;

  /// Throws std::invalid_argument if `db` is null, the query is empty or batch_size is 0.
  /// The query is sent with the first batch: a bad one is a `permanent` error then.
  [[nodiscard]] static auto open(std::shared_ptr<Database> db, Options options) -> result<cursor_source>;

  cursor_source(cursor_source&&) noexcept;
  auto operator=(cursor_source&&) noexcept -> cursor_source&;
  ~cursor_source();

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<record>>>;
  [[nodiscard]] auto seek(const position& p) -> result<void>;

 private:
  cursor_source(std::shared_ptr<Database> db, Options options) noexcept;

  std::shared_ptr<Database> db_;
  Options options_;
  std::unique_ptr<cursor_stream<Database>> stream_;  // the running query, if any
  std::int64_t handed_out_ = 0;                      // rows handed out (the position)
  bool exhausted_ = false;
};

}  // namespace pipeline::detail
