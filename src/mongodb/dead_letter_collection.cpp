#include <pipeline/mongodb/dead_letter_collection.hpp>

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <pipeline/detail/dead_letter_fingerprint.hpp>

#include <fmt/format.h>

#include "client_impl.hpp"
#include "errors.hpp"
#include "store_support.hpp"

namespace pipeline::mongodb {

using detail::scoped_bson;

namespace {

auto read_letter(const bson_t& doc) -> std::optional<dead_letter> {
  auto payload = detail::binary_field(doc, "payload");
  auto kind = detail::text_field(doc, "kind");
  auto message = detail::text_field(doc, "message");
  auto code = detail::integer_field(doc, "native_code");
  auto backend = detail::text_field(doc, "backend");
  auto attempts = detail::integer_field(doc, "attempts");
  auto pos = detail::binary_field(doc, "position");
  auto partition = detail::integer_field(doc, "partition");
  auto time_us = detail::integer_field(doc, "time_us");
  if (!payload || !kind || !message || !code || !backend || !attempts || !pos || !partition || !time_us) return std::nullopt;
  const auto k = parse_error_kind(*kind);
  constexpr auto u32 = static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max());
  if (!k || *attempts < 0 || *attempts > u32 || *partition < 0 || *partition > u32) return std::nullopt;
  dead_letter letter;
  letter.payload = std::move(*payload);
  letter.reason = error{*k, std::move(*message), *code, std::move(*backend)};
  letter.attempts = static_cast<std::uint32_t>(*attempts);
  letter.pos = position(std::move(*pos));
  letter.partition = static_cast<std::uint32_t>(*partition);
  letter.time = std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds{*time_us})};
  letter.job = detail::text_field(doc, "job").value_or("");  // none in documents from before jobs
  return letter;
}

auto micros(std::chrono::system_clock::time_point t) -> std::int64_t {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// The fields of an entry after `_id` and `identity`, as `write` inserts them and a failed
// replay replaces them.
void append_letter(bson_t* doc, const dead_letter& l) {
  detail::append_binary(doc, "payload", l.payload);
  detail::append_text(doc, "kind", to_string(l.reason.kind));
  detail::append_text(doc, "message", l.reason.message);
  BSON_APPEND_INT64(doc, "native_code", l.reason.native_code);
  detail::append_text(doc, "backend", l.reason.backend);
  BSON_APPEND_INT64(doc, "attempts", l.attempts);
  detail::append_binary(doc, "position", l.pos.bytes());
  BSON_APPEND_INT64(doc, "partition", l.partition);
  BSON_APPEND_DATE_TIME(doc, "time", detail::to_millis(l.time));
  BSON_APPEND_INT64(doc, "time_us", micros(l.time));
  detail::append_text(doc, "job", l.job);
}

auto parse_oid(const std::string& id) -> result<bson_oid_t> {
  if (id.size() != 24 || !bson_oid_is_valid(id.c_str(), id.size())) {
    return invalid_input_error(fmt::format("dead letter id \"{}\" is not 24 hex digits", id));
  }
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, id.c_str());
  return oid;
}

// The query of `filter` (and of ids above `after`) into `query`.
auto append_filter(bson_t* query, const dead_letter_filter& filter, const std::optional<bson_oid_t>& after) {
  if (after) {
    bson_t range;
    BSON_APPEND_DOCUMENT_BEGIN(query, "_id", &range);
    BSON_APPEND_OID(&range, "$gt", &*after);
    bson_append_document_end(query, &range);
  }
  if (filter.kind) detail::append_text(query, "kind", to_string(*filter.kind));
  if (filter.partition) BSON_APPEND_INT64(query, "partition", *filter.partition);
  if (filter.from || filter.to) {
    bson_t range;
    BSON_APPEND_DOCUMENT_BEGIN(query, "time_us", &range);
    if (filter.from) BSON_APPEND_INT64(&range, "$gte", micros(*filter.from));
    if (filter.to) BSON_APPEND_INT64(&range, "$lt", micros(*filter.to));
    bson_append_document_end(query, &range);
  }
  if (filter.job) detail::append_text(query, "job", *filter.job);
}

// What identifies a letter, as text: partition, position (hex, as it may be any bytes) and
// the shared fingerprint.
auto identity_of(const dead_letter& l, const std::string& fingerprint) -> std::string {
  std::string text = fmt::format("{}/", l.partition);
  for (const char c : l.pos.bytes()) text += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return text + "/" + fingerprint;
}

// Whether every write error of a bulk reply is a duplicate key (11000): a writer racing with
// the same letter inserted it first, under the unique index, and the letter is stored.
auto only_duplicate_keys(const bson_t& reply) -> bool {
  bson_iter_t it;
  bson_iter_t errors;
  if (bson_iter_init_find(&it, &reply, "writeConcernErrors")) {
    bson_iter_t concern;
    if (BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &concern) && bson_iter_next(&concern)) return false;
  }
  if (!bson_iter_init_find(&it, &reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &errors)) {
    return false;
  }
  bool any = false;
  while (bson_iter_next(&errors)) {
    bson_iter_t code;
    if (!BSON_ITER_HOLDS_DOCUMENT(&errors) || !bson_iter_recurse(&errors, &code) || !bson_iter_find(&code, "code") ||
        !BSON_ITER_HOLDS_NUMBER(&code) || bson_iter_as_int64(&code) != 11000) {
      return false;
    }
    any = true;
  }
  return any;
}

// Which of `identities` the collection holds already.
auto stored_identities(client& c, const dead_letter_collection_options& o, const std::vector<std::string>& identities)
    -> result<std::set<std::string>> {
  scoped_bson filter;
  bson_t clause;
  bson_t in;
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "identity", &clause);
  BSON_APPEND_ARRAY_BEGIN(&clause, "$in", &in);
  for (std::size_t i = 0; i < identities.size(); ++i) {
    const auto key = std::to_string(i);
    bson_append_utf8(&in, key.c_str(), static_cast<int>(key.size()), identities[i].data(),
                     static_cast<int>(identities[i].size()));
  }
  bson_append_array_end(&clause, &in);
  bson_append_document_end(filter.get(), &clause);
  scoped_bson opts;
  bson_t projection;
  BSON_APPEND_DOCUMENT_BEGIN(opts.get(), "projection", &projection);
  BSON_APPEND_INT32(&projection, "_id", 0);
  BSON_APPEND_INT32(&projection, "identity", 1);
  bson_append_document_end(opts.get(), &projection);
  detail::collection_handle coll{c, o.database, o.collection};
  const detail::cursor_ptr cursor{mongoc_collection_find_with_opts(coll.get(), filter.get(), opts.get(), nullptr)};
  std::set<std::string> stored;
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor.get(), &doc)) {
    if (auto id = detail::text_field(*doc, "identity")) stored.insert(std::move(*id));
  }
  bson_error_t e;
  if (mongoc_cursor_error(cursor.get(), &e)) {
    return detail::to_error(e, fmt::format("find the dead letters stored in {}.{}", o.database, o.collection));
  }
  return stored;
}

// The collection `options.collection` of `options.database`, through `c`.
class collection_dead_letters final : public pipeline::detail::dead_letter_backend {
 public:
  collection_dead_letters(std::shared_ptr<client> c, dead_letter_collection_options options)
      : client_(std::move(c)), options_(std::move(options)) {
    if (!client_) throw std::invalid_argument("mongodb::dead_letter_collection: the client is null");
    if (options_.database.empty() || options_.collection.empty()) {
      throw std::invalid_argument("mongodb::dead_letter_collection: database and collection must be named");
    }
  }

  auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (letters.empty()) return ok();
    if (!indexed_.load()) {
      // Made by the first write, since open cannot fail; racing writers make the same one.
      // Partial, so that entries stored before identities existed cannot stop it.
      scoped_bson keys;
      BSON_APPEND_INT32(keys.get(), "identity", 1);
      scoped_bson partial;
      bson_t exists;
      BSON_APPEND_DOCUMENT_BEGIN(partial.get(), "identity", &exists);
      BSON_APPEND_BOOL(&exists, "$exists", true);
      bson_append_document_end(partial.get(), &exists);
      if (auto made = detail::create_index(*client_, options_.database, options_.collection, *keys.get(),
                                           "identity_unique", true, partial.get());
          !made) {
        return made;
      }
      indexed_.store(true);
    }
    const auto fingerprints = pipeline::detail::dead_letter_fingerprints(letters);
    std::vector<std::string> identities;
    identities.reserve(letters.size());
    for (std::size_t i = 0; i < letters.size(); ++i) identities.push_back(identity_of(letters[i], fingerprints[i]));
    // Written again after an outage whatever became of the first try: the letters it stored are
    // found by their identity and skipped.
    return detail::client_access::rerun(*client_, stop, [&]() -> result<void> {
      auto stored = stored_identities(*client_, options_, identities);
      if (!stored) return std::move(stored).error();
      detail::collection_handle coll{*client_, options_.database, options_.collection};
      // One unordered bulk insert of the letters not stored yet: one round trip, split by
      // libmongoc past 16 MiB. Inserts, not upserts: CongoDB rewrites a document an upsert
      // matches, and turns its binary fields into something else.
      scoped_bson bulk_opts;
      BSON_APPEND_BOOL(bulk_opts.get(), "ordered", false);
      const detail::bulk_ptr bulk{mongoc_collection_create_bulk_operation_with_opts(coll.get(), bulk_opts.get())};
      bson_error_t e;
      std::size_t sent = 0;
      for (std::size_t i = 0; i < letters.size(); ++i) {
        if (stored->contains(identities[i])) continue;
        const auto& l = letters[i];
        scoped_bson doc;
        bson_oid_t oid;
        bson_oid_init(&oid, nullptr);
        BSON_APPEND_OID(doc.get(), "_id", &oid);
        detail::append_text(doc.get(), "identity", identities[i]);
        append_letter(doc.get(), l);
        if (!mongoc_bulk_operation_insert_with_opts(bulk.get(), doc.get(), nullptr, &e)) {
          return detail::to_error(e, "encode a dead letter");
        }
        ++sent;
      }
      if (sent == 0) return ok();
      scoped_bson reply;
      if (mongoc_bulk_operation_execute(bulk.get(), reply.get(), &e) == 0 && !only_duplicate_keys(*reply.get())) {
        // A payload over 16 MiB is refused for good; the runner then fails the run rather than
        // lose the entry. The others of the bulk are stored, and skipped when it is written again.
        return detail::to_error(e, fmt::format("write {} dead letters to {}.{}", sent, options_.database,
                                               options_.collection));
      }
      return ok();
    });
  }

  auto read(const dead_letter_filter& letters, const std::optional<std::string>& after_id, std::size_t limit,
            std::stop_token stop) -> result<std::vector<stored_dead_letter>> override {
    if (stop.stop_requested()) return stopped_error();
    if (limit == 0) return std::vector<stored_dead_letter>{};
    std::optional<bson_oid_t> after;
    if (after_id) {
      auto oid = parse_oid(*after_id);
      if (!oid) return std::move(oid).error();
      after = *oid;
    }
    scoped_bson filter;
    append_filter(filter.get(), letters, after);
    scoped_bson opts;
    bson_t sort;
    BSON_APPEND_DOCUMENT_BEGIN(opts.get(), "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(opts.get(), &sort);
    if (limit < static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())) {
      BSON_APPEND_INT64(opts.get(), "limit", static_cast<std::int64_t>(limit));
    }
    return detail::client_access::rerun(*client_, stop, [&]() -> result<std::vector<stored_dead_letter>> {
      std::vector<stored_dead_letter> out;
      detail::collection_handle coll{*client_, options_.database, options_.collection};
      const detail::cursor_ptr cursor{mongoc_collection_find_with_opts(coll.get(), filter.get(), opts.get(), nullptr)};
      const bson_t* doc = nullptr;
      while (mongoc_cursor_next(cursor.get(), &doc)) {
        bson_iter_t id;
        char hex[25] = "?";
        if (bson_iter_init_find(&id, doc, "_id") && BSON_ITER_HOLDS_OID(&id)) {
          bson_oid_to_string(bson_iter_oid(&id), hex);
        }
        auto letter = read_letter(*doc);
        if (!letter) {
          return permanent_error(
              fmt::format("dead letter {} in {}.{} is malformed", hex, options_.database, options_.collection));
        }
        out.push_back({std::string(hex), std::move(*letter)});
      }
      bson_error_t e;
      if (mongoc_cursor_error(cursor.get(), &e)) {
        return detail::to_error(e, fmt::format("read dead letters from {}.{}", options_.database, options_.collection));
      }
      return out;
    });
  }

  auto resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (ids.empty()) return ok();
    scoped_bson filter;
    bson_t clause;
    bson_t in;
    BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "_id", &clause);
    BSON_APPEND_ARRAY_BEGIN(&clause, "$in", &in);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto oid = parse_oid(ids[i]);
      if (!oid) return std::move(oid).error();
      const auto key = std::to_string(i);
      bson_append_oid(&in, key.c_str(), static_cast<int>(key.size()), &*oid);
    }
    bson_append_array_end(&clause, &in);
    bson_append_document_end(filter.get(), &clause);
    return detail::client_access::rerun(*client_, stop, [&]() -> result<void> {  // deleted by _id: safe to repeat
      detail::collection_handle coll{*client_, options_.database, options_.collection};
      bson_error_t e;
      if (!mongoc_collection_delete_many(coll.get(), filter.get(), nullptr, nullptr, &e)) {
        return detail::to_error(e, fmt::format("resolve {} dead letters in {}.{}", ids.size(), options_.database,
                                               options_.collection));
      }
      return ok();
    });
  }

  auto record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    // Each attempt counted once: sent again only while the server was not reached.
    return detail::client_access::send_once(*client_, stop, [&]() -> result<void> {
      detail::collection_handle coll{*client_, options_.database, options_.collection};
      for (const auto& f : failures) {
        auto oid = parse_oid(f.id);
        if (!oid) return std::move(oid).error();
        // A replacement, compared on the attempts read: CongoDB's $set and $inc would mangle the
        // binary fields. A concurrent failure of the same letter makes it read again.
        for (int tries = 0;; ++tries) {
          scoped_bson by_id;
          BSON_APPEND_OID(by_id.get(), "_id", &*oid);
          bson_error_t e;
          bool found = false;
          std::optional<dead_letter> letter;
          std::optional<std::string> identity;
          {
            const detail::cursor_ptr cursor{
                mongoc_collection_find_with_opts(coll.get(), by_id.get(), nullptr, nullptr)};
            const bson_t* got = nullptr;
            if (mongoc_cursor_next(cursor.get(), &got)) {
              found = true;
              letter = read_letter(*got);
              identity = detail::text_field(*got, "identity");
            }
            if (mongoc_cursor_error(cursor.get(), &e)) {
              return detail::to_error(e, fmt::format("read dead letter {} in {}.{}", f.id, options_.database,
                                                     options_.collection));
            }
          }
          if (!found) break;  // resolved or purged meanwhile: nothing to record
          if (!letter) {
            return permanent_error(fmt::format("dead letter {} in {}.{} is malformed", f.id, options_.database,
                                               options_.collection));
          }
          scoped_bson expected;
          BSON_APPEND_OID(expected.get(), "_id", &*oid);
          BSON_APPEND_INT64(expected.get(), "attempts", letter->attempts);
          letter->attempts += 1;
          letter->reason = f.reason;
          scoped_bson replacement;
          BSON_APPEND_OID(replacement.get(), "_id", &*oid);
          if (identity) detail::append_text(replacement.get(), "identity", *identity);
          append_letter(replacement.get(), *letter);
          scoped_bson reply;
          if (!mongoc_collection_replace_one(coll.get(), expected.get(), replacement.get(), nullptr, reply.get(), &e)) {
            return detail::to_error(e, fmt::format("record a failed replay of dead letter {} in {}.{}", f.id,
                                                   options_.database, options_.collection));
          }
          if (detail::integer_field(*reply.get(), "matchedCount").value_or(0) == 1) break;
          if (tries == 4) {
            return transient_error(
                fmt::format("dead letter {} in {}.{} kept changing while a failed replay was recorded", f.id,
                            options_.database, options_.collection));
          }
        }
      }
      return ok();
    });
  }

  auto purge(const dead_letter_filter& letters, std::stop_token stop) -> result<std::size_t> override {
    if (stop.stop_requested()) return stopped_error();
    scoped_bson filter;
    append_filter(filter.get(), letters, std::nullopt);
    // Sent once, so that the count it returns is what it deleted.
    return detail::client_access::send_once(*client_, stop, [&]() -> result<std::size_t> {
      detail::collection_handle coll{*client_, options_.database, options_.collection};
      scoped_bson reply;
      bson_error_t e;
      if (!mongoc_collection_delete_many(coll.get(), filter.get(), nullptr, reply.get(), &e)) {
        return detail::to_error(e,
                                fmt::format("purge dead letters from {}.{}", options_.database, options_.collection));
      }
      return static_cast<std::size_t>(detail::integer_field(*reply.get(), "deletedCount").value_or(0));
    });
  }

 private:
  std::shared_ptr<client> client_;
  dead_letter_collection_options options_;
  std::atomic<bool> indexed_{false};  // whether the identity index is made
};

}  // namespace

dead_letter_collection::dead_letter_collection(std::shared_ptr<client> c, dead_letter_collection_options options)
    : basic_dead_letter_store(std::make_shared<collection_dead_letters>(std::move(c), std::move(options))) {}

auto dead_letter_collection::read(const std::string& after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::string, dead_letter>>> {
  auto found = read({}, after_id.empty() ? std::nullopt : std::optional{after_id}, limit, {});
  if (!found) return std::move(found).error();
  std::vector<std::pair<std::string, dead_letter>> out;
  out.reserve(found->size());
  for (auto& f : *found) out.emplace_back(std::move(f.id), std::move(f.letter));
  return out;
}

}  // namespace pipeline::mongodb
