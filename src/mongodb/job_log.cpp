#include <pipeline/mongodb/job_log.hpp>

#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "client_impl.hpp"
#include "errors.hpp"
#include "store_support.hpp"

namespace pipeline::mongodb {

using detail::scoped_bson;

namespace {

// Counts are uint64; stored as int64 with the same bits.
auto as_stored(std::uint64_t n) noexcept -> std::int64_t { return static_cast<std::int64_t>(n); }
auto as_count(std::int64_t n) noexcept -> std::uint64_t { return static_cast<std::uint64_t>(n); }

// Every field of a run but its id, as $set or an insert takes them.
void append_run(bson_t* doc, const job_run& run) {
  detail::append_text(doc, "job", run.job);
  detail::append_text(doc, "state", to_string(run.state));
  detail::append_text(doc, "owner", run.owner);
  BSON_APPEND_INT64(doc, "read", as_stored(run.read));
  BSON_APPEND_INT64(doc, "written", as_stored(run.written));
  BSON_APPEND_INT64(doc, "dead_lettered", as_stored(run.dead_lettered));
  BSON_APPEND_INT64(doc, "retried", as_stored(run.retried));
  BSON_APPEND_DATE_TIME(doc, "created", detail::to_millis(run.created));
  BSON_APPEND_DATE_TIME(doc, "updated", detail::to_millis(run.updated));
  BSON_APPEND_DATE_TIME(doc, "lease_until", detail::to_millis(run.lease_until));
  detail::append_text(doc, "message", run.message);
}

auto read_run(const bson_t& doc) -> std::optional<job_run> {
  auto id = detail::integer_field(doc, "run_id");
  auto job = detail::text_field(doc, "job");
  auto state = detail::text_field(doc, "state");
  auto owner = detail::text_field(doc, "owner");
  auto read = detail::integer_field(doc, "read");
  auto written = detail::integer_field(doc, "written");
  auto dead = detail::integer_field(doc, "dead_lettered");
  auto retried = detail::integer_field(doc, "retried");
  auto created = detail::date_field(doc, "created");
  auto updated = detail::date_field(doc, "updated");
  auto lease = detail::date_field(doc, "lease_until");
  auto message = detail::text_field(doc, "message");
  if (!id || !job || !state || !owner || !read || !written || !dead || !retried || !created || !updated || !lease ||
      !message || *id <= 0) {
    return std::nullopt;
  }
  auto parsed_state = parse_run_state(*state);
  if (!parsed_state) return std::nullopt;
  job_run run;
  run.id = static_cast<std::uint64_t>(*id);
  run.job = std::move(*job);
  run.state = *parsed_state;
  run.owner = std::move(*owner);
  run.read = as_count(*read);
  run.written = as_count(*written);
  run.dead_lettered = as_count(*dead);
  run.retried = as_count(*retried);
  run.created = *created;
  run.updated = *updated;
  run.lease_until = *lease;
  run.message = std::move(*message);
  return run;
}

// The id counter of the job collection `collection` (`filter`), and an update applying `op`
// ($inc, $setOnInsert) with `seq` to its sequence number.
void counter_query(bson_t* filter, bson_t* update, const std::string& collection, const char* op, std::int64_t seq) {
  detail::append_text(filter, "name", collection);
  bson_t inner;
  BSON_APPEND_DOCUMENT_BEGIN(update, op, &inner);
  BSON_APPEND_INT64(&inner, "seq", seq);
  bson_append_document_end(update, &inner);
}

}  // namespace

job_log::job_log(std::shared_ptr<client> c, job_log_options options) noexcept
    : client_(std::move(c)), options_(std::move(options)) {}

auto job_log::open(std::shared_ptr<client> c, job_log_options options) -> result<job_log> {
  if (!c) throw std::invalid_argument("mongodb::job_log: the client is null");
  if (options.database.empty() || options.collection.empty() || options.counters_collection.empty()) {
    throw std::invalid_argument("mongodb::job_log: database and collections must be named");
  }
  scoped_bson keys;
  BSON_APPEND_INT32(keys.get(), "job", 1);
  BSON_APPEND_INT32(keys.get(), "run_id", -1);
  if (auto made = detail::create_index(*c, options.database, options.collection, *keys.get(), "job_run_id", false); !made) {
    return std::move(made).error();
  }
  scoped_bson counter_key;
  BSON_APPEND_INT32(counter_key.get(), "name", 1);
  if (auto made = detail::create_index(*c, options.database, options.counters_collection, *counter_key.get(),
                                       "name_unique", true);
      !made) {
    return std::move(made).error();
  }
  // The counter exists before any create, so that concurrent creates only ever $inc one
  // document (an upsert racing another could make two on a server without unique indexes).
  // $setOnInsert: repeated after an outage, it changes nothing.
  auto counter = detail::client_access::rerun(*c, {}, [&]() -> result<void> {
    detail::collection_handle counters{*c, options.database, options.counters_collection};
    scoped_bson filter;
    scoped_bson update;
    counter_query(filter.get(), update.get(), options.collection, "$setOnInsert", 0);
    scoped_bson opts;
    BSON_APPEND_BOOL(opts.get(), "upsert", true);
    bson_error_t e;
    if (!mongoc_collection_update_one(counters.get(), filter.get(), update.get(), opts.get(), nullptr, &e) &&
        !(e.domain == MONGOC_ERROR_SERVER && e.code == 11000)) {  // another process made it first
      return detail::to_error(e, "create the job log's id counter");
    }
    return ok();
  });
  if (!counter) return std::move(counter).error();
  return job_log(std::move(c), std::move(options));
}

auto job_log::create(const job_run& run) -> result<std::uint64_t> {
  // The id: sent once ($inc), so that a lost reply costs an unused id, never a shared one.
  auto taken = detail::client_access::send_once(*client_, {}, [&]() -> result<std::int64_t> {
    detail::collection_handle counters{*client_, options_.database, options_.counters_collection};
    scoped_bson filter;
    scoped_bson update;
    counter_query(filter.get(), update.get(), options_.collection, "$inc", 1);
    scoped_bson reply;
    bson_error_t e;
    if (!mongoc_collection_find_and_modify(counters.get(), filter.get(), nullptr, update.get(), nullptr, false, false,
                                           true, reply.get(), &e)) {
      return detail::to_error(e, "take a job run id");
    }
    bson_iter_t value;
    bson_iter_t seq;
    if (!bson_iter_init_find(&value, reply.get(), "value") || !BSON_ITER_HOLDS_DOCUMENT(&value) ||
        !bson_iter_recurse(&value, &seq) || !bson_iter_find(&seq, "seq") || !BSON_ITER_HOLDS_NUMBER(&seq)) {
      return permanent_error(fmt::format("the job log's id counter in {}.{} is missing or malformed",
                                         options_.database, options_.counters_collection));
    }
    return bson_iter_as_int64(&seq);
  });
  if (!taken) return std::move(taken).error();
  const auto id = *taken;
  scoped_bson doc;
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  BSON_APPEND_OID(doc.get(), "_id", &oid);
  BSON_APPEND_INT64(doc.get(), "run_id", id);
  append_run(doc.get(), run);
  bool resent = false;
  auto inserted = detail::client_access::rerun(*client_, {}, [&]() -> result<void> {
    detail::collection_handle coll{*client_, options_.database, options_.collection};
    bson_error_t e;
    const bool done = mongoc_collection_insert_one(coll.get(), doc.get(), nullptr, nullptr, &e);
    // Sent again after an outage, the `_id` this call made is found stored: the first try landed.
    if (done || (resent && e.domain == MONGOC_ERROR_SERVER && e.code == 11000)) return ok();
    resent = true;
    return detail::to_error(e, fmt::format("create a run of '{}'", run.job));
  });
  if (!inserted) return std::move(inserted).error();
  return static_cast<std::uint64_t>(id);
}

auto job_log::update(const job_run& run) -> result<void> {
  if (run.id == 0 || run.id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return not_found_error(fmt::format("job run {} is not in the log", run.id));
  }
  // $set of the same values: safe to repeat after an outage.
  return detail::client_access::rerun(*client_, {}, [&]() -> result<void> {
    detail::collection_handle coll{*client_, options_.database, options_.collection};
    scoped_bson filter;
    BSON_APPEND_INT64(filter.get(), "run_id", static_cast<std::int64_t>(run.id));
    scoped_bson update;
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    append_run(&set, run);
    bson_append_document_end(update.get(), &set);
    scoped_bson reply;
    bson_error_t e;
    if (!mongoc_collection_update_one(coll.get(), filter.get(), update.get(), nullptr, reply.get(), &e)) {
      return detail::to_error(e, fmt::format("update job run {}", run.id));
    }
    if (detail::integer_field(*reply.get(), "matchedCount").value_or(0) == 0) {
      return not_found_error(fmt::format("job run {} is not in the log", run.id));
    }
    return ok();
  });
}

auto job_log::runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> {
  if (limit == 0) return std::vector<job_run>{};
  return detail::client_access::rerun(*client_, {}, [&]() -> result<std::vector<job_run>> {
    std::vector<job_run> out;
    detail::collection_handle coll{*client_, options_.database, options_.collection};
    scoped_bson filter;
    detail::append_text(filter.get(), "job", job);
    scoped_bson opts;
    bson_t sort;
    BSON_APPEND_DOCUMENT_BEGIN(opts.get(), "sort", &sort);
    BSON_APPEND_INT32(&sort, "run_id", -1);
    bson_append_document_end(opts.get(), &sort);
    if (limit < static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())) {
      BSON_APPEND_INT64(opts.get(), "limit", static_cast<std::int64_t>(limit));
    }
    const detail::cursor_ptr cursor{mongoc_collection_find_with_opts(coll.get(), filter.get(), opts.get(), nullptr)};
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor.get(), &doc)) {
      auto run = read_run(*doc);
      if (!run) {
        return permanent_error(fmt::format("a run of '{}' in {}.{} is malformed (run_id {})", job, options_.database,
                                           options_.collection, detail::integer_field(*doc, "run_id").value_or(0)));
      }
      out.push_back(std::move(*run));
    }
    bson_error_t e;
    if (mongoc_cursor_error(cursor.get(), &e)) return detail::to_error(e, fmt::format("read the runs of '{}'", job));
    return out;
  });
}

auto job_log::jobs() -> result<std::vector<std::string>> {
  return detail::distinct_texts(*client_, options_.database, options_.collection, "job");
}

}  // namespace pipeline::mongodb
