#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/error.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

namespace pipeline::mongodb {

/// What a `collection_sink` does with each record.
enum class write_mode : std::uint8_t {
  /// insertOne per record in one unordered bulk. Not idempotent: a record without `_id`
  /// gets a new ObjectId each time it is written.
  insert,
  /// Insert or update by key: one query (`{key: {$in: [...]}}`, or `$or` for compound keys)
  /// finds the batch's keys already stored; records with a new key are inserted, the others
  /// sent as updateOne({key fields}, {$set: fields but _id, $setOnInsert: {_id}}, upsert:
  /// true), all in one unordered bulk. An insert that meets a key stored meanwhile by another
  /// writer (duplicate key 11000 on a unique index over the key fields) is sent again as an
  /// upsert. A batch that repeats a key is sent as upserts only. Idempotent: writing a batch
  /// again changes nothing. Without a unique index on the keys (CongoDB enforces none), two
  /// writers inserting the same new key at once can both insert it.
  upsert,
};

/// Where and how a `collection_sink` writes.
struct collection_sink_options {
  std::string database{};
  std::string collection{};
  write_mode mode{write_mode::insert};
  /// upsert: the fields that identify a document; every record must have them. Give the
  /// fields a unique index (on real MongoDB) so that concurrent upserts cannot duplicate.
  std::vector<std::string> key_fields{};
  /// String fields written as ObjectId (24 hex digits, as the source reads them).
  std::vector<std::string> object_id_fields{"_id"};
  /// String fields holding JSON, written as the sub-document or array it describes (as the
  /// source reads them).
  std::vector<std::string> json_fields{};
};

/// Writes records as documents of a collection with one unordered bulk write per batch.
///
/// `write_each` (the `pipeline::per_record_sink` the runner prefers) answers per record: the
/// bulk reply's writeErrors[].index are mapped back to the records and returned as refused
/// (duplicate key 11000 → `permanent`, document validation 121 → `invalid_input`, other
/// codes by their class), as are records that cannot be encoded (an ObjectId field that is
/// not hex, bad JSON, invalid UTF-8, a `$` or `.` key), which are never sent; every other
/// record is written once. A failure of the whole call is the error of the result and
/// nothing is reported per record: a lost connection or no server (`transient`), a
/// write-concern error (`transient`: the writes may not be durable), a stop. In insert mode
/// the documents such a call inserted with the `_id`s the sink made are deleted again
/// first (waiting out an outage to do so), so that the runner's retry does not store them
/// twice; a record that brought its own `_id` is not deleted (another writer may own that
/// document), so after a lost reply the retry refuses it with 11000 although it is stored:
/// use upsert mode where that matters. A bulk that never reached a server (an outage at its
/// start) is sent again once the server is back (see `client`).
///
/// `write` turns per-record failures into one error, so that a runner without `write_each`
/// bisects the batch and dead-letters the bad records: `permanent` (or `invalid_input`)
/// when any record failed for good, else `transient`. For that bisection to write the good
/// records once, insert mode first deletes the documents this call inserted (by `_id`,
/// generated client-side when a record has none) and upsert mode relies on being
/// idempotent. If that delete fails its error is returned, and a retry may insert them twice.
///
/// CongoDB (the test server) refuses a duplicate ObjectId `_id` (11000), within a batch or
/// against a stored document; it enforces no unique secondary index and no validator, so on
/// it a duplicate business key is not refused (docs/adapters/mongodb.md).
///
/// Values: see docs/adapters/mongodb.md (int64 → int64, timestamp → date in milliseconds,
/// bytes → binary, `object_id_fields` → ObjectId, `json_fields` → parsed).
///
/// Contract: models `pipeline::per_record_sink` (value_type `pipeline::record`). Thread-safe: each
/// write borrows a connection from the client's pool. Blocking, up to the client's timeouts;
/// a stop requested before a write returns `stopped` and writes nothing (a bulk already sent
/// is not interrupted).
///
///     auto sink = pipeline::mongodb::collection_sink(mongo, {.database = "estate",
///         .collection = "listings", .mode = pipeline::mongodb::write_mode::upsert,
///         .key_fields = {"listing_id"}});
///     auto refused = sink.write_each(std::span{rows}, stop);   // the records refused, by index
class collection_sink {
 public:
  using value_type = record;

  /// Throws std::invalid_argument if `c` is null, the database or collection name is empty,
  /// upsert has no key fields, insert has key fields, or a key field is listed twice.
  /// No I/O: the first write talks to the server.
  collection_sink(std::shared_ptr<client> c, collection_sink_options options);

  [[nodiscard]] auto write(std::span<const record> records, std::stop_token stop) -> result<void>;

  /// Writes `records`; returns the records refused, by index, in increasing order.
  [[nodiscard]] auto write_each(std::span<const record> records, std::stop_token stop)
      -> result<std::vector<rejected_record>>;

 private:
  std::shared_ptr<client> client_;
  collection_sink_options options_;
};

static_assert(pipeline::per_record_sink<collection_sink>);

}  // namespace pipeline::mongodb
