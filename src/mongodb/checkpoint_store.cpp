#include <pipeline/mongodb/checkpoint_store.hpp>

#include <chrono>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "client_impl.hpp"
#include "errors.hpp"
#include "store_support.hpp"

namespace pipeline::mongodb {

using detail::scoped_bson;

namespace {

// The checkpoints in one collection: the backend of `checkpoint_store`.
class checkpoint_documents final : public pipeline::detail::checkpoint_backend {
 public:
  checkpoint_documents(std::shared_ptr<client> c, checkpoint_store_options options) noexcept
      : client_(std::move(c)), options_(std::move(options)) {}

  auto load(std::string_view key) -> result<checkpoint> override {
    return detail::client_access::rerun(*client_, {}, [&] { return load_once(key); });
  }

  auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> override {
    if (expected_version >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return conflict_error(fmt::format("checkpoint '{}': version {} is beyond what is stored", key, expected_version));
    }
    const auto next = static_cast<std::int64_t>(expected_version + 1);
    auto saved = detail::client_access::send_once(*client_, {}, [&] { return save_once(key, pos, expected_version); });
    if (saved || saved.error().kind != error_kind::conflict) return saved;
    // A save sent again after its reply was lost (the runner retries a transient failure) finds
    // itself done: one version up, at its position.
    auto stored = load(key);
    if (stored && stored->version == static_cast<std::uint64_t>(next) && stored->pos == pos) return stored->version;
    return saved;
  }

  auto keys() -> result<std::vector<std::string>> override {
    return detail::distinct_texts(*client_, options_.database, options_.collection, "key");
  }

 private:
  // One try each, without waiting out an outage.
  auto load_once(std::string_view key) -> result<checkpoint> {
    detail::collection_handle coll{*client_, options_.database, options_.collection};
    scoped_bson filter;
    detail::append_text(filter.get(), "key", key);
    scoped_bson opts;
    BSON_APPEND_INT64(opts.get(), "limit", 1);
    const detail::cursor_ptr cursor{mongoc_collection_find_with_opts(coll.get(), filter.get(), opts.get(), nullptr)};
    const bson_t* doc = nullptr;
    if (!mongoc_cursor_next(cursor.get(), &doc)) {
      bson_error_t e;
      if (mongoc_cursor_error(cursor.get(), &e)) return detail::to_error(e, fmt::format("load checkpoint '{}'", key));
      return checkpoint{};
    }
    const auto version = detail::integer_field(*doc, "version");
    auto pos = detail::binary_field(*doc, "position");
    if (!version || *version <= 0 || !pos) {
      return permanent_error(fmt::format("checkpoint '{}' in {}.{} is malformed: it needs a positive integer version "
                                         "and a binary position", key, options_.database, options_.collection));
    }
    return checkpoint{position(std::move(*pos)), static_cast<std::uint64_t>(*version)};
  }

  auto save_once(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> {
    const auto next = static_cast<std::int64_t>(expected_version + 1);
    const auto now = detail::to_millis(std::chrono::system_clock::now());
    detail::collection_handle coll{*client_, options_.database, options_.collection};
    scoped_bson filter;
    detail::append_text(filter.get(), "key", key);
    bson_error_t e;
    if (expected_version == 0) {
      // Looked up first, so that a save sent again after its reply was lost finds its document
      // untouched: CongoDB rewrites a document an upsert matches, mangling its binary position.
      auto stored = load_once(key);
      if (!stored) return std::move(stored).error();
      if (stored->version != 0) {
        return conflict_error(fmt::format("checkpoint '{}' is already stored; expected version 0", key));
      }
      // Insert only if absent: the document from before this call tells who won a race.
      scoped_bson update;
      bson_t on_insert;
      BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$setOnInsert", &on_insert);
      detail::append_binary(&on_insert, "position", pos.bytes());
      BSON_APPEND_INT64(&on_insert, "version", next);
      BSON_APPEND_DATE_TIME(&on_insert, "updated_at", now);
      bson_append_document_end(update.get(), &on_insert);
      mongoc_find_and_modify_opts_t* fam = mongoc_find_and_modify_opts_new();
      mongoc_find_and_modify_opts_set_update(fam, update.get());
      mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_UPSERT);  // returns the old document
      scoped_bson reply;
      const bool done = mongoc_collection_find_and_modify_with_opts(coll.get(), filter.get(), fam, reply.get(), &e);
      mongoc_find_and_modify_opts_destroy(fam);
      if (!done) {
        if (e.domain == MONGOC_ERROR_SERVER && e.code == 11000) {  // the unique index turned a racing first save away
          return conflict_error(fmt::format("checkpoint '{}' was saved first by another writer", key));
        }
        return detail::to_error(e, fmt::format("save checkpoint '{}'", key));
      }
      bson_iter_t old;
      if (bson_iter_init_find(&old, reply.get(), "value") && BSON_ITER_HOLDS_DOCUMENT(&old)) {
        return conflict_error(fmt::format("checkpoint '{}' is already stored; expected version 0", key));
      }
      return static_cast<std::uint64_t>(next);
    }
    BSON_APPEND_INT64(filter.get(), "version", static_cast<std::int64_t>(expected_version));
    // A replacement rather than $set: the same atomic compare-and-set on the version, and
    // CongoDB's $set mangles binary values (it stores them as plain objects).
    scoped_bson replacement;
    detail::append_text(replacement.get(), "key", key);
    detail::append_binary(replacement.get(), "position", pos.bytes());
    BSON_APPEND_INT64(replacement.get(), "version", next);
    BSON_APPEND_DATE_TIME(replacement.get(), "updated_at", now);
    scoped_bson reply;
    if (!mongoc_collection_replace_one(coll.get(), filter.get(), replacement.get(), nullptr, reply.get(), &e)) {
      return detail::to_error(e, fmt::format("save checkpoint '{}'", key));
    }
    if (detail::integer_field(*reply.get(), "matchedCount").value_or(0) != 1) {
      auto stored = load_once(key);
      const auto said =
          stored ? fmt::format("stored version is {}", stored->version) : std::string("stored version unknown");
      return conflict_error(fmt::format("checkpoint '{}': expected version {}, {}", key, expected_version, said));
    }
    return static_cast<std::uint64_t>(next);
  }

  std::shared_ptr<client> client_;
  checkpoint_store_options options_;
};

}  // namespace

auto checkpoint_store::open(std::shared_ptr<client> c, checkpoint_store_options options) -> result<checkpoint_store> {
  if (!c) throw std::invalid_argument("mongodb::checkpoint_store: the client is null");
  if (options.database.empty() || options.collection.empty()) {
    throw std::invalid_argument("mongodb::checkpoint_store: database and collection must be named");
  }
  scoped_bson keys;
  BSON_APPEND_INT32(keys.get(), "key", 1);
  if (auto made = detail::create_index(*c, options.database, options.collection, *keys.get(), "key_unique", true); !made) {
    return std::move(made).error();
  }
  return checkpoint_store(std::make_shared<checkpoint_documents>(std::move(c), std::move(options)));
}

}  // namespace pipeline::mongodb
