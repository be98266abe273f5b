#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include <pipeline/batch.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
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
/// batches are asked for, so memory stays at one batch however large the result.
///
/// Positions are the count of rows handed out; a record's own position
/// (`batch::positions[i]`) is the count of rows before it. A snapshot read cannot resume in the middle:
/// `seek(p)` restarts the query and skips p rows, which is right only when the query has
/// an ORDER BY on a unique key and the rows before p did not change; prefer
/// `keyset_source` where resuming matters. A row whose value does not convert goes to the
/// batch's `rejected`.
///
/// Contract: models `pipeline::seekable_source`. Not thread-safe (one reader). Holds a
/// connection of its own (outside the pool) while the query runs, closed on exhaustion, on
/// error and on destruction. Blocking. A lost connection is `transient`: the next call
/// re-runs the query and skips the rows already handed out.
///
///     auto src = pipeline::mysql::cursor_source::open(db, {.query = "SELECT * FROM logs ORDER BY id"}).value();
class cursor_source {
 public:
  using value_type = record;

  /// Throws std::invalid_argument if `db` is null, the query is empty or batch_size is 0.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, cursor_source_options options)
      -> result<cursor_source>;

  cursor_source(cursor_source&&) noexcept;
  auto operator=(cursor_source&&) noexcept -> cursor_source&;
  ~cursor_source();

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<record>>>;
  [[nodiscard]] auto seek(const position& p) -> result<void>;

 private:
  struct stream;
  cursor_source(std::shared_ptr<database> db, cursor_source_options options) noexcept;

  std::shared_ptr<database> db_;
  cursor_source_options options_;
  std::unique_ptr<stream> stream_;  // the running query, if any
  std::int64_t handed_out_ = 0;     // rows handed out (the position)
  bool exhausted_ = false;
};

static_assert(pipeline::seekable_source<cursor_source>);

}  // namespace pipeline::mysql
