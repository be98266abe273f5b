#pragma once

// What pipeline-admin and the web console (pipeline::console) read and change, whatever the
// store: one interface over the job log, checkpoint store and DLQ of each adapter, opened
// from a URI.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <pipeline/checkpoint.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/job_run.hpp>
#include <pipeline/result.hpp>

namespace pipeline::admin {

/// Where the stores are inside the database. SQL: each store's own table when given, else
/// `table` (pipeline-admin's `--table`: the table of the command's store), else the store's
/// default table. MongoDB: the same rule, the names being collections. A file directory: the
/// same rule, the names being entries of the directory (defaults `jobs`, `checkpoints`,
/// `dead_letters.jsonl`). Redis: the keys under `prefix` ("pipeline").
struct store_names {
  std::string table;
  std::string job_log_table;
  std::string checkpoint_table;
  std::string dead_letter_table;
  std::string prefix{"pipeline"};
};

/// A Redis stream's consumer group, as XINFO GROUPS and XINFO CONSUMERS tell it.
struct stream_group {
  struct consumer {
    std::string name;
    std::uint64_t pending = 0;
    std::chrono::milliseconds idle{};  ///< since its last read or claim
  };
  std::string name;
  std::uint64_t pending = 0;  ///< delivered, not acknowledged
  std::optional<std::uint64_t> lag;  ///< entries not yet delivered; nullopt when Redis cannot tell
  std::string last_delivered_id;
  std::vector<consumer> consumers;
};

struct queue_status {
  std::string stream;
  std::uint64_t length = 0;
  std::vector<stream_group> groups;
};

/// A store of one adapter. Errors: `not_found` for a missing table (collection, directory,
/// file), key or letter, `invalid_input` for a bad argument, the adapter's own otherwise.
///
/// Not thread-safe: one caller at a time (the console serialises its requests per store).
/// Owns its connection, closed with it.
class store {
 public:
  virtual ~store() = default;

  [[nodiscard]] virtual auto jobs() -> result<std::vector<std::string>> = 0;
  [[nodiscard]] virtual auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> = 0;

  /// The keys that have a checkpoint, sorted.
  [[nodiscard]] virtual auto checkpoint_keys() -> result<std::vector<std::string>> = 0;
  [[nodiscard]] virtual auto load_checkpoint(std::string_view key) -> result<checkpoint> = 0;
  [[nodiscard]] virtual auto save_checkpoint(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> = 0;

  [[nodiscard]] virtual auto read_letters(const dead_letter_filter& filter, const std::optional<std::string>& after_id,
                                          std::size_t limit) -> result<std::vector<stored_dead_letter>> = 0;
  /// The letter with this id, `not_found` when there is none.
  [[nodiscard]] virtual auto letter(std::string_view id) -> result<stored_dead_letter> = 0;
  [[nodiscard]] virtual auto purge_letters(const dead_letter_filter& filter) -> result<std::size_t> = 0;
  /// Puts `letters` (read from this store) back on the Redis stream `queue` for the job's
  /// workers and removes them from the DLQ, atomically per call (docs/console.md, "Replay");
  /// returns how many moved. `invalid_input` for the stores that are not Redis.
  [[nodiscard]] virtual auto requeue_letters(std::span<const stored_dead_letter> letters, std::string_view queue)
      -> result<std::size_t> {
    (void)letters;
    return invalid_input_error(fmt::format(
        "requeue to {}: dead letters go back on a Redis stream of the same Redis; this store is not Redis (replay "
        "from the job's program with pipeline::replay instead)",
        queue));
  }

  /// A Redis stream's length, groups and consumers; `invalid_input` for the other stores.
  [[nodiscard]] virtual auto queue(std::string_view stream) -> result<queue_status> {
    return invalid_input_error(fmt::format("queue {}: queues are Redis streams, pass a redis:// store", stream));
  }
};

/// `letters` in `s` that match `filter` and, when `text` is set, hold it in their payload or
/// message (the stores cannot filter by text, so this reads on a page at a time): up to
/// `limit` of them with an id after `after_id`, oldest first.
[[nodiscard]] auto find_letters(store& s, const dead_letter_filter& filter, const std::optional<std::string>& text,
                                std::optional<std::string> after_id, std::size_t limit)
    -> result<std::vector<stored_dead_letter>>;

/// A filter from named fields, as the tool's options (`--kind`) and the console's query
/// parameters (`kind=`) give them: kind, partition, job, since (inclusive) and until
/// (exclusive), times in ISO-8601 UTC (`2026-05-01` or `2026-05-01T12:00:00Z`).
/// `field(name)` is the value given, nullopt when none. `invalid_input` for a bad value.
[[nodiscard]] auto parse_letter_filter(const std::function<std::optional<std::string>(std::string_view)>& field)
    -> result<dead_letter_filter>;

/// Requeues the letters of `s` that match `filter` and `text`, a page at a time, onto `queue`
/// (`store::requeue_letters`); returns how many moved.
[[nodiscard]] auto requeue_matching(store& s, const dead_letter_filter& filter, const std::optional<std::string>& text,
                                    std::string_view queue) -> result<std::size_t>;

/// The URI as messages show it: the user and password of "scheme://user:pass@host" left out.
[[nodiscard]] auto without_credentials(std::string_view uri) -> std::string;

/// Opens the store `uri` names: `sqlite:PATH` or a path ending in .db, `mysql://…`,
/// `postgresql://…`, `redis://…`, `mongodb://…/DB` (the URI names the database), `file:DIR`
/// or the path of a directory; an `invalid_input` error for another or for an adapter this
/// build lacks. Nothing is created: a missing SQLite file, table, collection, directory or
/// file is `not_found`.
[[nodiscard]] auto open_store(std::string_view uri, const store_names& names) -> result<std::unique_ptr<store>>;

}  // namespace pipeline::admin
