#include <pipeline/mongodb/collection_source.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "client_impl.hpp"
#include "document.hpp"
#include "errors.hpp"

namespace pipeline::mongodb {

namespace {

using detail::scoped_bson;

// The key as position text, tagged with its type so that the resumed query compares like
// with like; nullopt for a type a position does not hold.
auto encode_key(const bson_iter_t& key) -> std::optional<std::string> {
  auto* it = const_cast<bson_iter_t*>(&key);
  switch (bson_iter_type(it)) {
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(it), hex);
      return "oid:" + std::string(hex, 24);
    }
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
      return fmt::format("int:{}", bson_iter_as_int64(it));
    case BSON_TYPE_DOUBLE:
      return fmt::format("double:{}", bson_iter_double(it));  // shortest text that reads back exactly
    case BSON_TYPE_UTF8: {
      std::uint32_t length = 0;
      const char* s = bson_iter_utf8(it, &length);
      return "string:" + std::string(s, length);
    }
    case BSON_TYPE_DATE_TIME:
      return fmt::format("date:{}", bson_iter_date_time(it));
    default:
      return std::nullopt;
  }
}

template <class Number>
auto parse_number(std::string_view text) -> std::optional<Number> {
  Number n{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// Appends {key: {$gt: <the value in p>}} to `doc`.
auto append_after(bson_t* doc, const std::string& key, const position& p) -> result<void> {
  const std::string_view text = p.bytes();
  const auto colon = text.find(':');
  const auto bad = [&] { return invalid_input_error(fmt::format("mongodb position \"{}\" was not made by a collection_source", text)); };
  if (colon == std::string_view::npos) return bad();
  const auto tag = text.substr(0, colon);
  const auto rest = text.substr(colon + 1);
  bson_t range;
  BSON_APPEND_DOCUMENT_BEGIN(doc, key.c_str(), &range);
  bool appended = true;
  if (tag == "oid" && rest.size() == 24 && bson_oid_is_valid(rest.data(), rest.size())) {
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, std::string(rest).c_str());
    BSON_APPEND_OID(&range, "$gt", &oid);
  } else if (auto i = tag == "int" ? parse_number<std::int64_t>(rest) : std::nullopt) {
    BSON_APPEND_INT64(&range, "$gt", *i);
  } else if (auto d = tag == "double" ? parse_number<double>(rest) : std::nullopt) {
    BSON_APPEND_DOUBLE(&range, "$gt", *d);
  } else if (tag == "string" && rest.size() < static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    bson_append_utf8(&range, "$gt", 3, rest.data(), static_cast<int>(rest.size()));
  } else if (auto ms = tag == "date" ? parse_number<std::int64_t>(rest) : std::nullopt) {
    BSON_APPEND_DATE_TIME(&range, "$gt", *ms);
  } else {
    appended = false;
  }
  bson_append_document_end(doc, &range);
  if (!appended) return bad();
  return ok();
}

auto document_json(const bson_t& doc) -> std::string {
  std::size_t length = 0;
  const detail::chars_ptr text{bson_as_relaxed_extended_json(&doc, &length)};
  return text ? std::string(text.get(), length) : std::string("(unprintable document)");
}

auto parsed(const std::string& json, const char* what) -> detail::bson_ptr {
  auto doc = detail::parse_json(json, what);
  if (!doc) throw std::invalid_argument(fmt::format("mongodb::collection_source: {}", doc.error().message));
  return std::move(*doc);
}

}  // namespace

struct collection_source::state {
  std::shared_ptr<client> owner;
  collection_source_options options;
  detail::bson_ptr filter;
  detail::bson_ptr projection;  // null: every field
  position last;                // the key of the last document handed out
  bool exhausted = false;
  // The open query, if any; the connection is declared first so it outlives the others.
  std::unique_ptr<detail::collection_handle> collection;
  detail::cursor_ptr cursor;

  void close() noexcept {
    cursor.reset();
    collection.reset();
  }

  auto open_cursor() -> result<void> {
    scoped_bson query;
    if (last.empty()) {
      bson_concat(query.get(), filter.get());
    } else {
      bson_t conditions;
      bson_t user;
      bson_t after;
      BSON_APPEND_ARRAY_BEGIN(query.get(), "$and", &conditions);
      BSON_APPEND_DOCUMENT_BEGIN(&conditions, "0", &user);
      bson_concat(&user, filter.get());
      bson_append_document_end(&conditions, &user);
      BSON_APPEND_DOCUMENT_BEGIN(&conditions, "1", &after);
      auto appended = append_after(&after, options.key, last);
      bson_append_document_end(&conditions, &after);
      bson_append_array_end(query.get(), &conditions);
      if (!appended) return appended;
    }
    scoped_bson opts;
    bson_t sort;
    BSON_APPEND_DOCUMENT_BEGIN(opts.get(), "sort", &sort);
    BSON_APPEND_INT32(&sort, options.key.c_str(), 1);
    bson_append_document_end(opts.get(), &sort);
    BSON_APPEND_INT32(opts.get(), "batchSize",
                      static_cast<std::int32_t>(std::min<std::size_t>(options.batch_size, std::numeric_limits<std::int32_t>::max())));
    if (projection) BSON_APPEND_DOCUMENT(opts.get(), "projection", projection.get());
    collection = std::make_unique<detail::collection_handle>(*owner, options.database, options.collection);
    cursor.reset(mongoc_collection_find_with_opts(collection->get(), query.get(), opts.get(), nullptr));
    return ok();
  }

  // The next batch from the open cursor (opened after `last` if none is); on an error the
  // cursor is closed and `last` is where the next read starts.
  auto read_batch(const std::stop_token& stop) -> result<std::optional<batch<record>>>;
};

collection_source::collection_source(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}
collection_source::collection_source(collection_source&&) noexcept = default;
auto collection_source::operator=(collection_source&&) noexcept -> collection_source& = default;
collection_source::~collection_source() = default;

auto collection_source::checked_state(std::shared_ptr<client> c, collection_source_options options)
    -> std::unique_ptr<state> {
  if (!c) throw std::invalid_argument("mongodb::collection_source: the client is null");
  if (options.database.empty() || options.collection.empty() || options.key.empty()) {
    throw std::invalid_argument("mongodb::collection_source: database, collection and key must be named");
  }
  if (options.batch_size == 0) throw std::invalid_argument("mongodb::collection_source: batch_size must be > 0");
  auto s = std::make_unique<state>();
  s->filter = parsed(options.filter_json.empty() ? std::string("{}") : options.filter_json, "the filter");
  if (!options.projection_json.empty()) s->projection = parsed(options.projection_json, "the projection");
  s->owner = std::move(c);
  s->options = std::move(options);
  return s;
}

collection_source::collection_source(std::shared_ptr<client> c, collection_source_options options)
    : collection_source(checked_state(std::move(c), std::move(options))) {}

auto collection_source::seek(const position& p) -> result<void> {
  if (!p.empty()) {
    // Checked now, so that a bad checkpoint fails the seek rather than a later read.
    scoped_bson probe;
    if (auto ok = append_after(probe.get(), state_->options.key, p); !ok) return ok;
  }
  state_->close();
  state_->last = p;
  state_->exhausted = false;
  return ok();
}

auto collection_source::next_batch(std::stop_token stop) -> result<std::optional<batch<record>>> {
  auto& s = *state_;
  if (stop.stop_requested()) return stopped_error();
  if (s.exhausted) return std::optional<batch<record>>{};
  // A batch whose cursor was lost in an outage is read again after the last document handed
  // out, on a new cursor, once the server is back.
  return detail::client_access::rerun(*s.owner, stop, [&] { return s.read_batch(stop); });
}

auto collection_source::state::read_batch(const std::stop_token& stop) -> result<std::optional<batch<record>>> {
  if (!cursor) {
    if (auto opened = open_cursor(); !opened) return std::move(opened).error();
  }
  batch<record> out;
  out.records.reserve(std::min<std::size_t>(options.batch_size, 4096));
  position reached = last;  // the key of the last document read into `out`
  const bson_t* doc = nullptr;
  while (out.records.size() + out.rejected.size() < options.batch_size) {
    if (stop.stop_requested()) {
      close();  // the documents read into this batch are read again after last
      return stopped_error();
    }
    if (!mongoc_cursor_next(cursor.get(), &doc)) {
      bson_error_t e;
      if (mongoc_cursor_error(cursor.get(), &e)) {
        close();
        return detail::to_error(e, fmt::format("read {}.{}", options.database, options.collection));
      }
      close();
      exhausted = true;
      break;
    }
    bson_iter_t it;
    bson_iter_t key;
    std::optional<std::string> encoded;
    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, options.key.c_str(), &key)) encoded = encode_key(key);
    auto converted = encoded ? detail::to_record(*doc)
                             : result<record>{invalid_input_error(fmt::format(
                                   "document has no '{}' of a type a position can hold (ObjectId, integer, double, "
                                   "string, date); is it projected out?", options.key))};
    if (!converted) {
      out.rejected.push_back({document_json(*doc), std::move(converted).error(), 0, reached, 0, std::chrono::system_clock::now()});
      continue;
    }
    out.positions.push_back(reached);  // the key before it: seeking there reads it next
    out.records.push_back(std::move(*converted));
    reached = position(std::move(*encoded));
  }
  if (out.empty()) return std::optional<batch<record>>{};
  last = reached;
  out.end = std::move(reached);
  return std::optional<batch<record>>{std::move(out)};
}

}  // namespace pipeline::mongodb
