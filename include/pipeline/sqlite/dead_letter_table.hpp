#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite {

struct dead_letter_table_options {
  /// The table, created by `open` when missing: `(id INTEGER PRIMARY KEY, payload BLOB,
  /// kind TEXT, message TEXT, native_code INTEGER, backend TEXT, attempts INTEGER,
  /// position BLOB, partition INTEGER, time TEXT, fingerprint TEXT)`, with a unique index
  /// `<table>_entry` on (partition, position, fingerprint) (so the name must leave room for
  /// the suffix). A table from before the fingerprint column gets it added.
  std::string table{"pipeline_dead_letters"};
};

/// A dead-letter queue in a sqlite table, one row per entry, read back in order for replay.
///
/// Each entry keeps its payload and position byte for byte (BLOB), the error's kind (as
/// `to_string` names it), message, native code and backend, the attempt count, the partition
/// and the time (UTC ISO-8601 text, to the microsecond). `id` increases in write order.
///
/// Idempotent for replayed batches: after a crash the runner dead-letters a batch again, with
/// the same letters in the same order; an entry whose partition, position, payload hash and
/// repeat count within its `write` call are already stored is skipped, so the table holds each
/// rejected record once. Two equal payloads in one call stay two entries.
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
class dead_letter_table {
 public:
  /// Creates the table if it is missing. Throws std::invalid_argument if `db` is null or the
  /// table name is not an identifier, before any SQL is sent.
  [[nodiscard]] static auto open(std::shared_ptr<database> db, const dead_letter_table_options& options = {})
      -> result<dead_letter_table>;

  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void>;

  /// Up to `limit` entries with an id above `after_id`, by increasing id, with their ids.
  [[nodiscard]] auto read(std::int64_t after_id, std::size_t limit)
      -> result<std::vector<std::pair<std::int64_t, dead_letter>>>;

 private:
  dead_letter_table(std::shared_ptr<database> db, std::string table) noexcept;

  std::shared_ptr<database> db_;
  std::string table_;  // quoted
};

static_assert(pipeline::dead_letter_sink<dead_letter_table>);

}  // namespace pipeline::sqlite
