// pipeline::mongodb passes the contract suites every adapter passes, against the server
// scripts/services.sh starts (CongoDB here, any mongod through PIPELINE_MONGODB_TEST_URI).
// Each factory works in a database of its own, dropped afterwards.
#include <pipeline/mongodb/mongodb.hpp>
#include <pipeline/testing/testing.hpp>

#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "mongodb/mongodb_test_support.hpp"

namespace {

using namespace pipeline::mongodb;

template <write_mode Mode>
struct collection_sink_factory {
  using sink_type = collection_sink;
  static constexpr bool idempotent = Mode == write_mode::upsert;
  static constexpr bool thread_safe = true;

  auto make_sink() -> std::unique_ptr<collection_sink> {
    collection_sink_options options{.database = db_.name(), .collection = "items", .mode = Mode};
    if constexpr (Mode == write_mode::upsert) options.key_fields = {"id"};
    return std::make_unique<collection_sink>(collection_sink(db_.client(), options));
  }
  static auto make_record(std::size_t i) -> pipeline::record {
    return {{"id", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }
  // Refused by the server (even i: its ObjectId _id is taken by a document stored here
  // first, 11000) or before sending (odd i: an _id that is not an ObjectId).
  auto make_bad_record(std::size_t i) -> pipeline::record {
    auto r = make_record(i);
    if (i % 2 == 1) {
      r.set("_id", "not-an-object-id-" + std::to_string(i));
      return r;
    }
    const auto id = fmt::format("{:024x}", i + 1);
    pipeline::record taken{{"_id", id}, {"id", -1 - static_cast<std::int64_t>(i)}, {"name", "taken"}};
    const collection_sink_options plain{.database = db_.name(), .collection = "items"};  // named: gcc 12 ICEs on it inline here
    EXPECT_TRUE(collection_sink(db_.client(), plain).write(std::span{&taken, 1}, {}));
    r.set("_id", id);
    return r;
  }
  // What the sink under test stored: the documents taking ids (id < 0) are left out.
  auto stored() -> std::vector<pipeline::record> {
    auto all = reader_.id_name_records("items");
    std::erase_if(all, [](const pipeline::record& r) { return r.find("id")->get<std::int64_t>() < 0; });
    return all;
  }

 private:
  mongodb_test::test_database db_;
  mongodb_test::raw_reader reader_{db_.name()};
};

// Documents {seq, name} inserted with libmongoc-made ObjectId _ids, read in seq order with
// _id projected out, so that the records read are exactly make_record(i).
struct collection_source_factory {
  using source_type = collection_source;

  auto make_source(std::size_t count) -> std::unique_ptr<collection_source> {
    std::vector<pipeline::record> rows;
    for (std::size_t i = 0; i < count; ++i) rows.push_back(make_record(i));
    auto sink = collection_sink(db_.client(), {.database = db_.name(), .collection = "items"});
    EXPECT_TRUE(sink.write(std::span{std::as_const(rows)}, {}));
    return std::make_unique<collection_source>(collection_source(
        db_.client(), {.database = db_.name(), .collection = "items", .key = "seq",
                       .projection_json = R"({"_id": 0})", .batch_size = 7}));
  }
  static auto make_record(std::size_t i) -> pipeline::record {
    return {{"seq", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }

 private:
  mongodb_test::test_database db_;
};

template <class Store>
struct store_factory {
  using store_type = Store;
  auto make_store() -> std::unique_ptr<Store> {
    return std::make_unique<Store>(Store::open(db_.client(), {.database = db_.name()}).value());
  }

 private:
  mongodb_test::test_database db_;
};

struct dead_letter_collection_factory {
  using dlq_type = dead_letter_collection;
  static constexpr auto time_precision = std::chrono::microseconds{1};
  auto make_dlq() -> std::unique_ptr<dlq_type> {
    auto dlq = std::make_unique<dlq_type>(db_.client(), pipeline::mongodb::dead_letter_collection_options{.database = db_.name()});
    last_ = dlq.get();
    return dlq;
  }
  auto stored() -> std::vector<pipeline::dead_letter> {
    std::vector<pipeline::dead_letter> out;
    auto page = last_->read("", std::numeric_limits<std::size_t>::max()).value();  // kept: the loop reads from it
    for (auto& [id, letter] : page) out.push_back(std::move(letter));
    return out;
  }

 private:
  mongodb_test::test_database db_;
  dlq_type* last_ = nullptr;
};

using collection_sinks =
    ::testing::Types<collection_sink_factory<write_mode::upsert>, collection_sink_factory<write_mode::insert>>;
using collection_sources = ::testing::Types<collection_source_factory>;
using checkpoint_stores = ::testing::Types<store_factory<checkpoint_store>>;
using dead_letter_collections = ::testing::Types<dead_letter_collection_factory>;
using job_logs = ::testing::Types<store_factory<job_log>>;

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(mongodb_collection_sink, sink_contract, collection_sinks);
INSTANTIATE_TYPED_TEST_SUITE_P(mongodb_collection_sink, per_record_sink_contract, collection_sinks);
INSTANTIATE_TYPED_TEST_SUITE_P(mongodb_collection_source, source_contract, collection_sources);
INSTANTIATE_TYPED_TEST_SUITE_P(mongodb_checkpoint_store, checkpoint_store_contract, checkpoint_stores);
INSTANTIATE_TYPED_TEST_SUITE_P(mongodb_dead_letter_collection, dead_letter_sink_contract, dead_letter_collections);
INSTANTIATE_TYPED_TEST_SUITE_P(mongodb_dead_letter_collection, dead_letter_store_contract, dead_letter_collections);
INSTANTIATE_TYPED_TEST_SUITE_P(mongodb_job_log, job_log_store_contract, job_logs);
}  // namespace pipeline::testing
