#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mongodb {

struct dead_letter_collection_options {
  std::string database{};
  /// One document per entry: `{payload: binary, kind, message, native_code: int64, backend,
  /// attempts, position: binary, partition, time: date, time_us: int64}`.
  std::string collection{"pipeline_dead_letters"};
};

/// A dead-letter queue in a collection, one document per entry, read back for replay.
///
/// Payloads and positions are kept byte for byte (binary); the error kind as `to_string`
/// names it; the time as a date (for people and TTL indexes) and as microseconds since the
/// epoch (`time_us`, what `read` returns).
///
/// Contract: models `pipeline::dead_letter_sink`: one ordered bulk insert per `write`;
/// concurrent writes from many workers are fine (pooled connections). Not transactional:
/// if the server fails half-way, a retried write may store some entries twice. Blocking;
/// a stop before the write returns `stopped`. A document that does not read back as an
/// entry (edited by hand) is a `permanent` error naming its `_id`.
///
///     auto dlq = pipeline::mongodb::dead_letter_collection::open(mongo, {.database = "etl"});
///     for (std::string after;;) {                            // replay, 500 at a time
///       auto page = dlq.read(after, 500).value();
///       if (page.empty()) break;
///       for (auto& [id, letter] : page) retry(letter.payload);
///       after = page.back().first;
///     }
class dead_letter_collection {
 public:
  /// Throws std::invalid_argument if `c` is null or a name is empty.
  [[nodiscard]] static auto open(std::shared_ptr<client> c, dead_letter_collection_options options)
      -> dead_letter_collection;

  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void>;

  /// Up to `limit` entries whose `_id` (24 hex digits) is above `after_id` ("" from the
  /// start), by increasing `_id`, with their ids.
  [[nodiscard]] auto read(const std::string& after_id, std::size_t limit)
      -> result<std::vector<std::pair<std::string, dead_letter>>>;

 private:
  dead_letter_collection(std::shared_ptr<client> c, dead_letter_collection_options options) noexcept;

  std::shared_ptr<client> client_;
  dead_letter_collection_options options_;
};

static_assert(pipeline::dead_letter_sink<dead_letter_collection>);

}  // namespace pipeline::mongodb
