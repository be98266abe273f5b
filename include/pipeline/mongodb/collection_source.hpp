#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include <pipeline/batch.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/source.hpp>

namespace pipeline::mongodb {

/// What a `collection_source` reads.
struct collection_source_options {
  std::string database{};
  std::string collection{};
  /// The field documents are read in ascending order of, and resumed after (`$gt`). Its
  /// values must be unique and of one type (ObjectId, integer, double, string or date);
  /// give it an index on real MongoDB.
  std::string key{"_id"};
  /// A query filter as (Extended) JSON, e.g. R"({"status": "active"})"; ANDed with the key range.
  std::string filter_json{"{}"};
  /// A projection as JSON, e.g. R"({"price": 1, "city": 1})"; it must keep `key`.
  std::string projection_json{};
  std::size_t batch_size{1000};  ///< documents per batch, and the cursor's batchSize
};

/// Reads a collection in order of a key, a batch at a time, resumable after any batch.
///
/// The query is `find({$and: [filter, {key: {$gt: last}}]}).sort({key: 1})`; one cursor
/// serves batch after batch. Each batch's `end` encodes its last key with its type
/// ("oid:…", "int:…", "double:…", "string:…", "date:…"), and `seek(end)` makes the next query
/// start after it, so a run resumes from its checkpoint. Each record's own position
/// (`batch::positions`) is the key of the record before it (empty for the first of the
/// collection), so seeking there reads that record next. A failed read (connection lost)
/// drops the cursor; the next call queries again after the last key handed out, so a
/// transient error retried by the runner loses and repeats nothing.
///
/// Documents become records field by field, in document order: int32 and int64 → int64,
/// double, string, bool, null, date → timestamp, binary → bytes, ObjectId → its 24 hex
/// digits, decimal128 → its decimal text, sub-documents, arrays and other types → relaxed
/// Extended JSON text (docs/adapters/mongodb.md). A document without the key, or whose key
/// has a type the position cannot hold, is handed out as a rejected dead letter
/// (`invalid_input`, payload its JSON) instead of a record.
///
/// Contract: models `pipeline::seekable_source` (value_type `pipeline::record`). Used by one
/// thread at a time; holds one pooled connection while a cursor is open. Blocking, up to the
/// client's timeouts; a stop is seen between documents and returns `stopped`.
///
///     auto src = pipeline::mongodb::collection_source(mongo, {.database = "estate",
///         .collection = "listings", .filter_json = R"({"country": "PT"})", .batch_size = 500});
///     while (auto b = src.next_batch(stop)) { if (!*b) break; use(**b); }
class collection_source {
 public:
  using value_type = record;

  /// Throws std::invalid_argument if `c` is null, a name or the key is empty, `batch_size`
  /// is 0, or the filter or projection is not valid JSON.
  /// No I/O: the first `next_batch` queries the server.
  collection_source(std::shared_ptr<client> c, collection_source_options options);

  collection_source(collection_source&&) noexcept;
  auto operator=(collection_source&&) noexcept -> collection_source&;
  ~collection_source();

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<record>>>;
  /// Resumes after `p` (a batch's `end`); an empty position starts over. A position this
  /// source did not make is `invalid_input`.
  [[nodiscard]] auto seek(const position& p) -> result<void>;

 private:
  struct state;
  explicit collection_source(std::unique_ptr<state> s) noexcept;
  static auto checked_state(std::shared_ptr<client> c, collection_source_options options) -> std::unique_ptr<state>;
  std::unique_ptr<state> state_;
};

static_assert(pipeline::seekable_source<collection_source>);

}  // namespace pipeline::mongodb
