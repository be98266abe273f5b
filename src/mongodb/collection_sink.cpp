#include <pipeline/mongodb/collection_sink.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "client_impl.hpp"
#include "document.hpp"
#include "errors.hpp"

namespace pipeline::mongodb {

namespace {

using detail::scoped_bson;

auto rules_of(const collection_sink_options& o) -> detail::field_rules { return {o.object_id_fields, o.json_fields}; }

// What one bulk did: the records that failed, and (insert) the `_id` of each record sent,
// keyed by its index in the batch, so that the inserted ones can be taken back; `made_ids`
// are the indices whose `_id` this call made, which no other call can have stored.
struct bulk_result {
  std::vector<rejected_record> failures;
  detail::bson_ptr sent_ids{bson_new()};
  std::set<std::size_t> made_ids;
};

auto append_insert(mongoc_bulk_operation_t* bulk, const record& r, const detail::field_rules& rules,
                   bulk_result& out, std::size_t index) -> result<void> {
  scoped_bson doc;
  if (!r.contains("_id")) {
    // Client-side, so that this call knows what it inserted (and could take it back).
    bson_oid_t oid;
    bson_oid_init(&oid, nullptr);
    BSON_APPEND_OID(doc.get(), "_id", &oid);
    out.made_ids.insert(index);
  }
  if (auto a = detail::append_fields(doc.get(), r, rules, [](const std::string&) { return false; }); !a) return a;
  bson_error_t e;
  if (!mongoc_bulk_operation_insert_with_opts(bulk, doc.get(), nullptr, &e)) return detail::to_error(e, "insert");
  bson_iter_t id;
  if (bson_iter_init_find(&id, doc.get(), "_id")) {
    const auto key = std::to_string(index);
    bson_append_value(out.sent_ids.get(), key.c_str(), static_cast<int>(key.size()), bson_iter_value(&id));
  }
  return ok();
}

auto append_upsert(mongoc_bulk_operation_t* bulk, const record& r, const collection_sink_options& o,
                   const detail::field_rules& rules) -> result<void> {
  scoped_bson selector;
  for (const auto& key : o.key_fields) {
    const auto* v = r.find(key);
    if (v == nullptr) return invalid_input_error(fmt::format("upsert: the record has no key field '{}'", key));
    if (auto a = detail::append_value(selector.get(), key, *v, rules); !a) return a;
  }
  scoped_bson update;
  bson_t set;
  BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
  // Every field but _id, keys included (setting them to the value the filter matched is
  // allowed), so that $set is never empty; _id only on insert, since it is immutable.
  auto appended = detail::append_fields(&set, r, rules, [](const std::string& name) { return name == "_id"; });
  bson_append_document_end(update.get(), &set);
  if (!appended) return appended;
  if (const auto* id = r.find("_id")) {
    bson_t on_insert;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$setOnInsert", &on_insert);
    appended = detail::append_value(&on_insert, "_id", *id, rules);
    bson_append_document_end(update.get(), &on_insert);
    if (!appended) return appended;
  }
  scoped_bson opts;
  BSON_APPEND_BOOL(opts.get(), "upsert", true);
  bson_error_t e;
  if (!mongoc_bulk_operation_update_one_with_opts(bulk, selector.get(), update.get(), opts.get(), &e)) {
    return detail::to_error(e, "upsert");
  }
  return ok();
}

auto name_of(const collection_sink_options& o) -> std::string { return fmt::format("{}.{}", o.database, o.collection); }

// writeErrors[] of a bulk reply, their index mapped back to the batch through `sent`.
void collect_write_errors(const bson_t& reply, const std::vector<std::size_t>& sent, const collection_sink_options& o,
                          std::vector<rejected_record>& failures) {
  bson_iter_t it;
  bson_iter_t errors;
  if (!bson_iter_init_find(&it, &reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &errors)) return;
  while (bson_iter_next(&errors)) {
    bson_iter_t field;
    if (!BSON_ITER_HOLDS_DOCUMENT(&errors) || !bson_iter_recurse(&errors, &field)) continue;
    std::int64_t index = -1;
    std::int64_t code = 0;
    std::string message = "unknown write error";
    while (bson_iter_next(&field)) {
      const std::string_view key = bson_iter_key(&field);
      if (key == "index" && BSON_ITER_HOLDS_NUMBER(&field)) index = bson_iter_as_int64(&field);
      else if (key == "code" && BSON_ITER_HOLDS_NUMBER(&field)) code = bson_iter_as_int64(&field);
      else if (key == "errmsg" && BSON_ITER_HOLDS_UTF8(&field)) message = bson_iter_utf8(&field, nullptr);
    }
    if (index < 0 || static_cast<std::uint64_t>(index) >= sent.size()) continue;
    const auto at = sent[static_cast<std::size_t>(index)];
    failures.push_back({at, detail::server_error(code, message, fmt::format("{} {} of record {}",
        o.mode == write_mode::insert ? "insert" : "upsert", name_of(o), at))});
  }
}

auto has_nonempty_array(const bson_t& reply, const char* name) -> bool {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &reply, name) || !BSON_ITER_HOLDS_ARRAY(&it)) return false;
  bson_iter_t inner;
  return bson_iter_recurse(&it, &inner) && bson_iter_next(&inner);
}

enum class op : std::uint8_t { insert, upsert };

// One part of a key as text that compares equal exactly when MongoDB's equality would:
// numbers by value (servers may return an int64 as int32 or double), the rest by their JSON.
auto key_part(const bson_iter_t& element) -> std::string {
  auto* it = const_cast<bson_iter_t*>(&element);
  switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
      return fmt::format("n{}", bson_iter_as_int64(it));
    case BSON_TYPE_DOUBLE: {
      const double d = bson_iter_double(it);
      constexpr double limit = 9.2e18;
      if (d == std::trunc(d) && d > -limit && d < limit) return fmt::format("n{}", static_cast<std::int64_t>(d));
      return fmt::format("d{}", d);
    }
    default:
      return fmt::format("j{}", detail::to_json(element));
  }
}

// The key fields of a document, in key order, as one text; nullopt when one is missing.
auto key_text(const bson_t& doc, const std::vector<std::string>& key_fields) -> std::optional<std::string> {
  std::string text;
  for (const auto& name : key_fields) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, &doc, name.c_str())) return std::nullopt;
    const auto part = key_part(it);
    text += fmt::format("{}:{}", part.size(), part);  // length-prefixed: no separator can be faked
  }
  return text;
}

// Upsert mode: one query finds which keys of the batch are stored already; the records whose
// key is new become plain inserts (on CongoDB, where every update scans the collection, this
// is what makes a load fast; on MongoDB, inserts skip the update path). Records missing a key
// are left to fail when sent. A batch that repeats a key stays all upserts, since an
// unordered bulk does not say which of its operations runs first.
auto plan_upserts(client& c, const collection_sink_options& o, std::span<const record> records,
                  const detail::field_rules& rules, const std::stop_token& stop, std::vector<op>& ops) -> result<void> {
  std::vector<std::optional<std::string>> keys(records.size());
  std::set<std::string> seen;
  bool repeated = false;
  scoped_bson probe;
  bson_t alternatives;
  bson_t in;
  const bool single = o.key_fields.size() == 1;
  if (single) {
    bson_t clause;
    BSON_APPEND_DOCUMENT_BEGIN(probe.get(), o.key_fields[0].c_str(), &clause);
    BSON_APPEND_ARRAY_BEGIN(&clause, "$in", &in);
    std::size_t n = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto* v = records[i].find(o.key_fields[0]);
      if (v == nullptr) continue;
      scoped_bson one;
      if (!detail::append_value(one.get(), o.key_fields[0], *v, rules)) continue;  // fails again, alone, when sent
      keys[i] = key_text(*one.get(), o.key_fields);
      bson_iter_t it;
      bson_iter_init_find(&it, one.get(), o.key_fields[0].c_str());
      const auto index = std::to_string(n++);
      bson_append_value(&in, index.c_str(), static_cast<int>(index.size()), bson_iter_value(&it));
    }
    bson_append_array_end(&clause, &in);
    bson_append_document_end(probe.get(), &clause);
  } else {
    BSON_APPEND_ARRAY_BEGIN(probe.get(), "$or", &alternatives);
    std::size_t n = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      scoped_bson selector;
      bool complete = true;
      for (const auto& name : o.key_fields) {
        const auto* v = records[i].find(name);
        complete = complete && v != nullptr && detail::append_value(selector.get(), name, *v, rules);
      }
      if (!complete) continue;
      keys[i] = key_text(*selector.get(), o.key_fields);
      const auto index = std::to_string(n++);
      bson_append_document(&alternatives, index.c_str(), static_cast<int>(index.size()), selector.get());
    }
    bson_append_array_end(probe.get(), &alternatives);
  }
  for (const auto& k : keys) {
    if (k && !seen.insert(*k).second) repeated = true;
  }
  if (repeated || seen.empty()) return ok();
  scoped_bson opts;
  bson_t projection;
  BSON_APPEND_DOCUMENT_BEGIN(opts.get(), "projection", &projection);
  BSON_APPEND_INT32(&projection, "_id", 0);
  for (const auto& name : o.key_fields) BSON_APPEND_INT32(&projection, name.c_str(), 1);
  bson_append_document_end(opts.get(), &projection);
  auto stored = detail::client_access::rerun(c, stop, [&]() -> result<std::set<std::string>> {
    detail::collection_handle coll{c, o.database, o.collection};
    const detail::cursor_ptr cursor{mongoc_collection_find_with_opts(coll.get(), probe.get(), opts.get(), nullptr)};
    std::set<std::string> found;
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor.get(), &doc)) {
      if (auto k = key_text(*doc, o.key_fields)) found.insert(std::move(*k));
    }
    bson_error_t e;
    if (mongoc_cursor_error(cursor.get(), &e)) return detail::to_error(e, fmt::format("find the stored keys in {}", name_of(o)));
    return found;
  });
  if (!stored) return std::move(stored).error();
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (keys[i] && !stored->contains(*keys[i])) ops[i] = op::insert;
  }
  return ok();
}

// Deletes the documents this call inserted: those sent at an index `taken(index)` accepts.
// Waits out an outage (deleting by `_id`s only this call made is safe to repeat), up to `stop`.
template <class Taken>
auto take_back(client& c, const collection_sink_options& o, const bson_t& sent_ids, Taken taken,
               const std::stop_token& stop) -> result<void> {
  scoped_bson filter;
  bson_t id_clause;
  bson_t in;
  BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "_id", &id_clause);
  BSON_APPEND_ARRAY_BEGIN(&id_clause, "$in", &in);
  std::size_t n = 0;
  bson_iter_t it;
  if (bson_iter_init(&it, &sent_ids)) {
    while (bson_iter_next(&it)) {
      const std::string_view key = bson_iter_key(&it);
      std::size_t index = 0;
      std::from_chars(key.data(), key.data() + key.size(), index);
      if (!taken(index)) continue;
      const auto array_key = std::to_string(n++);
      bson_append_value(&in, array_key.c_str(), static_cast<int>(array_key.size()), bson_iter_value(&it));
    }
  }
  bson_append_array_end(&id_clause, &in);
  bson_append_document_end(filter.get(), &id_clause);
  if (n == 0) return ok();
  return detail::client_access::rerun(c, stop, [&]() -> result<void> {
    detail::collection_handle coll{c, o.database, o.collection};
    bson_error_t e;
    if (!mongoc_collection_delete_many(coll.get(), filter.get(), nullptr, nullptr, &e)) {
      return detail::to_error(e, fmt::format("taking back the {} documents inserted into {} by a failed batch", n, name_of(o)));
    }
    return ok();
  });
}

// Sends the records at `indices` in one unordered bulk, each as `ops` says; adds the
// failures of single records to `out`. An error is a failure of the whole call.
auto send(client& c, const collection_sink_options& o, std::span<const record> records,
          const std::vector<std::size_t>& indices, const std::vector<op>& ops, const std::stop_token& stop,
          bulk_result& out) -> result<void> {
  const auto rules = rules_of(o);
  detail::collection_handle coll{c, o.database, o.collection};
  scoped_bson bulk_opts;
  BSON_APPEND_BOOL(bulk_opts.get(), "ordered", false);
  const detail::bulk_ptr bulk{mongoc_collection_create_bulk_operation_with_opts(coll.get(), bulk_opts.get())};
  std::vector<std::size_t> sent;  // bulk index → batch index
  sent.reserve(indices.size());
  for (const auto i : indices) {
    auto added = ops[i] == op::insert ? append_insert(bulk.get(), records[i], rules, out, i)
                                      : append_upsert(bulk.get(), records[i], o, rules);
    if (added) {
      sent.push_back(i);
    } else {
      auto reason = std::move(added).error();
      reason.message = fmt::format("record {} for {}: {}", i, name_of(o), reason.message);
      out.failures.push_back({i, std::move(reason)});
    }
  }
  if (sent.empty()) return ok();
  if (stop.stop_requested()) return stopped_error();
  scoped_bson reply;
  bson_error_t e;
  if (mongoc_bulk_operation_execute(bulk.get(), reply.get(), &e) != 0) return ok();
  auto whole = detail::to_error(e, fmt::format("bulk write to {}", name_of(o)));
  const bool concern_failed = has_nonempty_array(*reply.get(), "writeConcernErrors");
  // Per-record errors only when the server answered for each; a lost connection or a write
  // concern error says nothing about single records.
  if (whole.kind != error_kind::transient && !concern_failed && has_nonempty_array(*reply.get(), "writeErrors")) {
    collect_write_errors(*reply.get(), sent, o, out.failures);
    return ok();
  }
  if (concern_failed) whole.kind = error_kind::transient;  // written, maybe, but not as durably as asked
  // libmongoc picks the server and its connection once per bulk, before its first command:
  // a bulk that never reached a server inserted nothing.
  if (o.mode == write_mode::insert && !detail::never_sent(whole)) {
    // The call fails as a whole, so what it may have inserted must not stay: only the `_id`s
    // it made itself, since a given `_id` may be another call's document.
    std::set<std::size_t> failed;
    collect_write_errors(*reply.get(), sent, o, out.failures);
    for (const auto& f : out.failures) failed.insert(f.index);
    if (auto undone = take_back(c, o, *out.sent_ids.get(),
                                [&](std::size_t i) { return out.made_ids.contains(i) && !failed.contains(i); }, stop);
        !undone) {
      whole.message += fmt::format("; and {}", undone.error().message);
    }
  }
  return whole;
}

// One try of a batch: plan (upsert), send, send the lost races again as upserts.
auto bulk_once(client& c, const collection_sink_options& o, std::span<const record> records, const std::stop_token& stop)
    -> result<bulk_result> {
  bulk_result out;
  if (records.empty()) return out;
  std::vector<op> ops(records.size(), o.mode == write_mode::insert ? op::insert : op::upsert);
  if (o.mode == write_mode::upsert) {
    if (auto planned = plan_upserts(c, o, records, rules_of(o), stop, ops); !planned) return std::move(planned).error();
  }
  std::vector<std::size_t> all(records.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (auto sent = send(c, o, records, all, ops, stop, out); !sent) return std::move(sent).error();
  if (o.mode == write_mode::upsert) {
    // An insert that met the key stored meanwhile by another writer (duplicate key on a
    // unique index over the key fields) goes again as an upsert.
    std::vector<std::size_t> again;
    std::erase_if(out.failures, [&](const rejected_record& f) {
      const bool lost_race = ops[f.index] == op::insert && f.reason.native_code == 11000;
      if (lost_race) {
        again.push_back(f.index);
        ops[f.index] = op::upsert;
      }
      return lost_race;
    });
    if (!again.empty()) {
      if (auto sent = send(c, o, records, again, ops, stop, out); !sent) return std::move(sent).error();
    }
  }
  std::sort(out.failures.begin(), out.failures.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return out;
}

// The batch, tried again from its plan while a bulk never reached a server (an outage at its
// start; the lost races' second bulk included, whose first one did land).
auto run_bulk(client& c, const collection_sink_options& o, std::span<const record> records, const std::stop_token& stop)
    -> result<bulk_result> {
  if (stop.stop_requested()) return stopped_error();
  return detail::client_access::send_once(c, stop, [&] { return bulk_once(c, o, records, stop); });
}

}  // namespace

collection_sink::collection_sink(std::shared_ptr<client> c, collection_sink_options options)
    : client_(std::move(c)), options_(std::move(options)) {
  if (!client_) throw std::invalid_argument("mongodb::collection_sink: the client is null");
  if (options_.database.empty() || options_.collection.empty()) {
    throw std::invalid_argument("mongodb::collection_sink: database and collection must be named");
  }
  if (options_.mode == write_mode::upsert && options_.key_fields.empty()) {
    throw std::invalid_argument("mongodb::collection_sink: upsert needs key_fields");
  }
  if (options_.mode == write_mode::insert && !options_.key_fields.empty()) {
    throw std::invalid_argument("mongodb::collection_sink: key_fields are for upsert only");
  }
  auto keys = options_.key_fields;
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
    throw std::invalid_argument("mongodb::collection_sink: a key field is listed twice");
  }
}

auto collection_sink::write_each(std::span<const record> records, std::stop_token stop)
    -> result<std::vector<rejected_record>> {
  auto done = run_bulk(*client_, options_, records, stop);
  if (!done) return std::move(done).error();
  return std::move(done->failures);
}

auto collection_sink::write(std::span<const record> records, std::stop_token stop) -> result<void> {
  auto done = run_bulk(*client_, options_, records, stop);
  if (!done) return std::move(done).error();
  const auto& failures = done->failures;
  if (failures.empty()) return ok();
  if (options_.mode == write_mode::insert) {
    std::set<std::size_t> failed;
    for (const auto& f : failures) failed.insert(f.index);
    if (auto undone = take_back(*client_, options_, *done->sent_ids.get(), [&](std::size_t i) { return !failed.contains(i); },
                                stop);
        !undone) {
      return undone;
    }
  }
  // A record that fails for good makes the batch fail for good, so that bisection isolates
  // it; transient failures alone (a write conflict) let the runner retry the batch.
  const auto permanent = std::find_if(failures.begin(), failures.end(), [](const auto& f) { return !f.reason.retryable(); });
  auto reason = permanent != failures.end() ? permanent->reason : failures.front().reason;
  reason.message = fmt::format("{} of {} records failed; first: {}", failures.size(), records.size(), reason.message);
  return reason;
}

}  // namespace pipeline::mongodb
