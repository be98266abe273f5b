// collection_sink against the test server: per-document failures of a bulk, and what the
// runner makes of them. Bad documents are made with what CongoDB really refuses: a duplicate
// ObjectId _id (error 11000), and values the sink cannot encode (never sent). CongoDB does
// not enforce unique secondary indexes, so duplicates on a business key are not used here;
// against a real mongod they would fail the same way (11000) for a unique index.
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/mongodb/mongodb.hpp>
#include <pipeline/runner.hpp>

#include <limits>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mongodb/mongodb_test_support.hpp"

namespace {

using namespace pipeline::mongodb;
using ::testing::ElementsAre;
using ::testing::Field;

constexpr const char* taken_id = "65a1b2c3d4e5f60718293a4b";

auto row(int i) -> pipeline::record { return {{"id", i}, {"name", "row-" + std::to_string(i)}}; }

// 10 rows; 3 and 7 reuse the _id of a document already stored (duplicate key on the
// server), 5 has an _id that is not an ObjectId (refused before sending).
auto batch_with_bad_documents() -> std::vector<pipeline::record> {
  std::vector<pipeline::record> rows;
  for (int i = 0; i < 10; ++i) rows.push_back(row(i));
  rows[3].set("_id", taken_id);
  rows[7].set("_id", taken_id);
  rows[5].set("_id", "not-an-object-id");
  return rows;
}

class mongodb_sink : public ::testing::Test {
 protected:
  void SetUp() override {
    pipeline::record existing{{"_id", taken_id}, {"id", -1}, {"name", "existing"}};
    ASSERT_TRUE(insert_sink().write(std::span{&existing, 1}, {}));
  }
  auto insert_sink() -> collection_sink { return collection_sink(db_.client(), {.database = db_.name(), .collection = "items"}); }
  auto names() -> std::multiset<std::string> {
    std::multiset<std::string> out;
    for (const auto& r : reader_.id_name_records("items")) out.insert(r.find("name")->get<std::string>());
    return out;
  }

  mongodb_test::test_database db_;
  mongodb_test::raw_reader reader_{db_.name()};
};

TEST_F(mongodb_sink, write_each_reports_exactly_the_bad_documents_and_writes_the_others_once) {
  auto rows = batch_with_bad_documents();
  auto failures = insert_sink().write_each(std::span{std::as_const(rows)}, {});
  ASSERT_TRUE(failures) << fmt::format("{}", failures.error());
  ASSERT_THAT(*failures, ElementsAre(Field(&pipeline::rejected_record::index, 3u), Field(&pipeline::rejected_record::index, 5u),
                                     Field(&pipeline::rejected_record::index, 7u)));
  EXPECT_EQ((*failures)[0].reason.native_code, 11000);
  EXPECT_EQ((*failures)[0].reason.kind, pipeline::error_kind::permanent);
  EXPECT_THAT((*failures)[0].reason.message, ::testing::HasSubstr("record 3"));
  EXPECT_EQ((*failures)[1].reason.kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT((*failures)[1].reason.message, ::testing::HasSubstr("not-an-object-id"));
  EXPECT_EQ((*failures)[2].reason.native_code, 11000);
  EXPECT_EQ(names(), (std::multiset<std::string>{"existing", "row-0", "row-1", "row-2", "row-4", "row-6", "row-8", "row-9"}));
}

// CongoDB refuses a repeated ObjectId _id inside one batch too: the first is written.
TEST_F(mongodb_sink, write_each_refuses_an_id_repeated_inside_the_batch_and_keeps_the_first) {
  auto rows = std::vector<pipeline::record>{row(0), row(1), row(2)};
  constexpr const char* shared_id = "65a1b2c3d4e5f60718293a4c";
  rows[0].set("_id", shared_id);
  rows[2].set("_id", shared_id);
  auto refused = insert_sink().write_each(std::span{std::as_const(rows)}, {});
  ASSERT_TRUE(refused) << fmt::format("{}", refused.error());
  ASSERT_THAT(*refused, ElementsAre(Field(&pipeline::rejected_record::index, 2u)));
  EXPECT_EQ((*refused)[0].reason.native_code, 11000);
  EXPECT_EQ(names(), (std::multiset<std::string>{"existing", "row-0", "row-1"}));
}

// The sink contract: a failed write leaves nothing of its batch, so the runner's bisection
// writes the good documents once.
TEST_F(mongodb_sink, a_failed_insert_batch_takes_back_what_it_inserted) {
  auto rows = batch_with_bad_documents();
  auto wrote = insert_sink().write(std::span{std::as_const(rows)}, {});
  ASSERT_FALSE(wrote);
  EXPECT_EQ(wrote.error().kind, pipeline::error_kind::permanent) << fmt::format("{}", wrote.error());
  EXPECT_THAT(wrote.error().message, ::testing::HasSubstr("3 of 10 records failed"));
  EXPECT_EQ(names(), (std::multiset<std::string>{"existing"}));
}

TEST_F(mongodb_sink, the_runner_dead_letters_exactly_the_bad_documents_and_writes_the_rest_once) {
  std::vector<pipeline::record> rows;
  for (int i = 0; i < 40; ++i) {
    rows.push_back(row(i));
    if (i % 10 == 3) rows.back().set("_id", taken_id);
  }
  pipeline::vector_source<pipeline::record> source{rows, 8};
  auto sink = insert_sink();
  auto dlq = dead_letter_collection(db_.client(), {.database = db_.name()});
  pipeline::memory_checkpoint_store checkpoints;
  auto report = pipeline::run(source, pipeline::identity{}, sink, dlq, checkpoints,
                              {.name = "bad-docs", .workers = 2, .retry = {.initial = std::chrono::milliseconds{1}}});
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.written, 36u);
  EXPECT_EQ(report.dead_lettered, 4u);
  auto letters = dlq.read("", 100).value();
  ASSERT_EQ(letters.size(), 4u);
  for (const auto& [id, letter] : letters) {
    EXPECT_EQ(letter.reason.native_code, 11000);
    EXPECT_THAT(letter.payload, ::testing::HasSubstr(taken_id));
  }
  auto stored = names();
  EXPECT_EQ(stored.size(), 37u);  // the existing document and 36 good ones, none twice
  for (int i = 0; i < 40; ++i) EXPECT_EQ(stored.count("row-" + std::to_string(i)), i % 10 == 3 ? 0u : 1u) << i;
}

TEST_F(mongodb_sink, upsert_updates_by_key_and_inserts_new_keys) {
  auto sink = collection_sink(db_.client(), {.database = db_.name(), .collection = "by_key",
                                                   .mode = write_mode::upsert, .key_fields = {"listing", "country"}});
  std::vector<pipeline::record> first{{{"listing", 1}, {"country", "PT"}, {"price", 100}},
                                      {{"listing", 1}, {"country", "ES"}, {"price", 200}}};
  std::vector<pipeline::record> second{{{"listing", 1}, {"country", "PT"}, {"price", 150}, {"rooms", 3}},
                                       {{"listing", 2}, {"country", "PT"}, {"price", 300}}};
  ASSERT_TRUE(sink.write(std::span{std::as_const(first)}, {}));
  ASSERT_TRUE(sink.write(std::span{std::as_const(second)}, {}));
  ASSERT_TRUE(sink.write(std::span{std::as_const(second)}, {}));  // again: nothing changes
  EXPECT_EQ(db_.count("by_key"), 3);
  EXPECT_EQ(db_.count("by_key", R"({"listing": 1, "country": "PT", "price": 150, "rooms": 3})"), 1);
  EXPECT_EQ(db_.count("by_key", R"({"listing": 1, "country": "ES", "price": 200})"), 1);
}

TEST_F(mongodb_sink, an_upsert_record_without_its_key_fails_alone) {
  auto sink = collection_sink(db_.client(), {.database = db_.name(), .collection = "by_key",
                                                   .mode = write_mode::upsert, .key_fields = {"listing"}});
  std::vector<pipeline::record> rows{{{"listing", 1}, {"price", 1}}, {{"price", 2}}, {{"listing", 3}, {"price", 3}}};
  auto failures = sink.write_each(std::span{std::as_const(rows)}, {});
  ASSERT_TRUE(failures);
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].index, 1u);
  EXPECT_EQ((*failures)[0].reason.kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT((*failures)[0].reason.message, ::testing::HasSubstr("no key field 'listing'"));
  EXPECT_EQ(db_.count("by_key"), 2);
}

TEST_F(mongodb_sink, bad_json_in_a_json_field_fails_that_record_only) {
  auto sink = collection_sink(db_.client(), {.database = db_.name(), .collection = "docs", .json_fields = {"tags"}});
  std::vector<pipeline::record> rows{{{"tags", R"(["a", "b"])"}}, {{"tags", "[unclosed"}}};
  auto failures = sink.write_each(std::span{std::as_const(rows)}, {});
  ASSERT_TRUE(failures);
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ((*failures)[0].index, 1u);
  EXPECT_EQ((*failures)[0].reason.kind, pipeline::error_kind::invalid_input);
  EXPECT_EQ(db_.count("docs", R"({"tags": "a"})"), 1);  // stored as an array
}

TEST(mongodb_client, an_unreachable_server_is_a_transient_error_that_says_so) {
  // Port 9 (discard) on loopback: nothing listens there on the test machines. No outage
  // budget: the first failure is the error.
  auto c = client::open("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300&connectTimeoutMS=300&outage-budget-ms=0");
  auto sink = collection_sink(c, {.database = "nowhere", .collection = "items"});
  std::vector<pipeline::record> rows{row(1)};
  auto wrote = sink.write(std::span{std::as_const(rows)}, {});
  ASSERT_FALSE(wrote);
  EXPECT_EQ(wrote.error().kind, pipeline::error_kind::transient) << fmt::format("{}", wrote.error());
  EXPECT_EQ(wrote.error().backend, "mongodb");
  EXPECT_THAT(wrote.error().message, ::testing::HasSubstr("bulk write to nowhere.items"));
  auto up = c->ping();
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().kind, pipeline::error_kind::transient);
}

TEST(mongodb_client, a_malformed_uri_is_refused_at_open) {
  EXPECT_THROW((void)client::open("mysql://127.0.0.1"), std::invalid_argument);
  EXPECT_THROW((void)client::open("mongodb://127.0.0.1", {.max_pool_size = 0}), std::invalid_argument);
}

TEST(mongodb_client, a_stopped_write_sends_nothing) {
  mongodb_test::test_database db;
  auto sink = collection_sink(db.client(), {.database = db.name(), .collection = "items"});
  std::vector<pipeline::record> rows{row(1)};
  std::stop_source stop;
  stop.request_stop();
  auto wrote = sink.write(std::span{std::as_const(rows)}, stop.get_token());
  ASSERT_FALSE(wrote);
  EXPECT_EQ(wrote.error().kind, pipeline::error_kind::stopped);
  EXPECT_EQ(db.count("items"), 0);
}

}  // namespace
