// pipeline::mongodb::collection_sink against a plain libmongoc insert_many loop writing the
// same documents, in the same run, on the same server (PIPELINE_MONGODB_TEST_URI or
// PIPELINE_MONGODB_URI; run it under scripts/services.sh --only mongodb). Each iteration writes
// `items` listing-like documents in batches into a fresh collection (the drop is not timed).
//
// Cases: the baseline loop; the sink in insert mode (the adapter's own overhead: records →
// BSON, one unordered bulk per batch); the sink in upsert mode keyed by `id`, the issue's
// target (>= 0.9x the loop). On CongoDB every upsert scans the collection (it has no real
// indexes), so upsert cost grows with the collection; a real mongod uses the `id` index.
#include <pipeline/mongodb/mongodb.hpp>

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <mongoc/mongoc.h>
#include <unistd.h>

#include "summary.hpp"

namespace {

constexpr std::int64_t items = 10'000;
constexpr std::size_t batch_size = 1'000;

auto uri() -> std::string {
  for (const char* variable : {"PIPELINE_MONGODB_TEST_URI", "PIPELINE_MONGODB_URI"}) {
    if (const char* v = std::getenv(variable); v != nullptr && *v != '\0') return v;
  }
  throw std::runtime_error("set PIPELINE_MONGODB_TEST_URI (run under scripts/services.sh --only mongodb)");
}

const std::string database = "bench_mongodb_sink_" + std::to_string(::getpid());

auto documents() -> const std::vector<pipeline::record>& {
  static const auto rows = [] {
    static constexpr const char* cities[] = {"Lisboa", "Porto", "Faro", "Braga", "Coimbra"};
    std::vector<pipeline::record> out;
    out.reserve(items);
    for (std::int64_t id = 1; id <= items; ++id) {
      out.push_back({{"id", id},
                     {"city", cities[id % 5]},
                     {"price_cents", 5'000'000 + id % 90'000'000},
                     {"listed_on", "2024-05-01"},
                     {"bedrooms", id % 6}});
    }
    return out;
  }();
  return rows;
}

auto shared_client() -> const std::shared_ptr<pipeline::mongodb::client>& {
  static const auto c = pipeline::mongodb::client::open(uri());
  return c;
}

void drop(const char* collection) {
  // Drops only the collection: a missing one is fine, and the next write recreates it.
  mongoc_client_t* c = mongoc_client_new(uri().c_str());
  mongoc_collection_t* coll = mongoc_client_get_collection(c, database.c_str(), collection);
  mongoc_collection_drop(coll, nullptr);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
}

// The baseline: what a hand-written C loop does with the same values.
void insert_many_loop(benchmark::State& state) {
  mongoc_client_t* c = mongoc_client_new(uri().c_str());
  mongoc_collection_t* coll = mongoc_client_get_collection(c, database.c_str(), "loop");
  // A malloc'd array: a std::vector<bson_t*> drops bson_t's alignment attribute (-Wignored-attributes).
  auto** docs = static_cast<bson_t**>(bson_malloc(batch_size * sizeof(bson_t*)));
  const auto& rows = documents();
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    mongoc_collection_drop(coll, nullptr);
    state.ResumeTiming();
    for (std::size_t first = 0; first < rows.size(); first += batch_size) {
      const auto n = std::min(batch_size, rows.size() - first);
      for (std::size_t i = 0; i < n; ++i) {
        const auto& r = rows[first + i];
        bson_t* d = bson_new();
        BSON_APPEND_INT64(d, "id", r.find("id")->get<std::int64_t>());
        BSON_APPEND_UTF8(d, "city", r.find("city")->get<std::string>().c_str());
        BSON_APPEND_INT64(d, "price_cents", r.find("price_cents")->get<std::int64_t>());
        BSON_APPEND_UTF8(d, "listed_on", r.find("listed_on")->get<std::string>().c_str());
        BSON_APPEND_INT64(d, "bedrooms", r.find("bedrooms")->get<std::int64_t>());
        docs[i] = d;
      }
      bson_error_t e;
      const bool ok = mongoc_collection_insert_many(coll, const_cast<const bson_t**>(docs), n, nullptr, nullptr, &e);
      for (std::size_t i = 0; i < n; ++i) bson_destroy(docs[i]);
      if (!ok) {
        state.SkipWithError(e.message);
        break;
      }
    }
  }
  bson_free(docs);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
}

void with_sink(benchmark::State& state, pipeline::mongodb::write_mode mode, const char* collection) {
  auto sink = pipeline::mongodb::collection_sink(
      shared_client(), {.database = database, .collection = collection, .mode = mode,
                        .key_fields = mode == pipeline::mongodb::write_mode::upsert ? std::vector<std::string>{"id"}
                                                                                     : std::vector<std::string>{}});
  const std::span<const pipeline::record> rows{documents()};
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    drop(collection);
    state.ResumeTiming();
    for (std::size_t first = 0; first < rows.size(); first += batch_size) {
      auto wrote = sink.write(rows.subspan(first, std::min(batch_size, rows.size() - first)), {});
      if (!wrote) {
        state.SkipWithError(wrote.error().message.c_str());
        break;
      }
    }
  }
}

void sink_insert(benchmark::State& state) { with_sink(state, pipeline::mongodb::write_mode::insert, "sink_insert"); }
void sink_upsert(benchmark::State& state) { with_sink(state, pipeline::mongodb::write_mode::upsert, "sink_upsert"); }

constexpr std::array cases{
    bench::bench_case{"insert_many_loop", "libmongoc insert_many loop", "insert_many_loop", insert_many_loop},
    bench::bench_case{"sink_insert", "collection_sink, insert", "insert_many_loop", sink_insert},
    bench::bench_case{"sink_upsert", "collection_sink, upsert by id", "insert_many_loop", sink_upsert},
};

}  // namespace

auto main(int argc, char** argv) -> int {
  const auto caption = std::to_string(items) + " documents into a fresh collection, batches of " +
                       std::to_string(batch_size) + ", wall time";
  const int status = bench::run_benchmarks(argc, argv, cases, items, bench::measure::wall_items_per_second, caption.c_str());
  (void)shared_client()->drop_database(database);
  return status;
}
