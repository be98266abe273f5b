// collection_source against the test server: how values map both ways, filters and
// projections, resuming from a checkpoint, and documents it cannot hand out. Numbers are
// compared as the record kinds the source promises (int64, double), never as BSON widths:
// CongoDB narrows int64 and integral doubles on the way back.
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/mongodb/mongodb.hpp>
#include <pipeline/runner.hpp>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mongodb/mongodb_test_support.hpp"

namespace {

using namespace pipeline::mongodb;
using namespace std::chrono_literals;

auto drain(collection_source& src) -> std::vector<pipeline::batch<pipeline::record>> {
  std::vector<pipeline::batch<pipeline::record>> out;
  for (;;) {
    auto next = src.next_batch({});
    if (!next) {
      ADD_FAILURE() << fmt::format("{}", next.error());
      return out;
    }
    if (!*next) return out;
    out.push_back(std::move(**next));
  }
}

auto records_of(const std::vector<pipeline::batch<pipeline::record>>& batches) -> std::vector<pipeline::record> {
  std::vector<pipeline::record> out;
  for (const auto& b : batches) out.insert(out.end(), b.records.begin(), b.records.end());
  return out;
}

// The integer `want`, as int64 or as the double holding it: CongoDB sends an int64 that fits
// in 53 bits back as a double (and one that fits in 32 as int32, which the source widens);
// a real mongod keeps int64. Either way the number is exact.
auto is_integer(const pipeline::value& v, std::int64_t want) -> bool {
  if (const auto* i = v.get_if<std::int64_t>()) return *i == want;
  if (const auto* d = v.get_if<double>()) return *d == static_cast<double>(want);
  return false;
}

class mongodb_source : public ::testing::Test {
 protected:
  void insert(const std::string& collection, const std::vector<pipeline::record>& rows,
              std::vector<std::string> json_fields = {}) {
    auto sink = collection_sink(db_.client(), {.database = db_.name(), .collection = collection,
                                                     .json_fields = std::move(json_fields)});
    ASSERT_TRUE(sink.write(std::span{rows}, {}));
  }
  auto listings(int first, int count) -> std::vector<pipeline::record> {
    std::vector<pipeline::record> rows;
    for (int i = first; i < first + count; ++i) {
      rows.push_back({{"seq", i}, {"city", i % 2 == 0 ? "Lisbon" : "Porto"}, {"price", 1000 + i}});
    }
    return rows;
  }
  mongodb_test::test_database db_;
};

TEST_F(mongodb_source, every_value_kind_round_trips_through_a_sink_and_the_source) {
  const auto when = pipeline::timestamp{std::chrono::milliseconds{1'717'000'000'123}};
  const pipeline::bytes blob{std::byte{0}, std::byte{0xff}, std::byte{0x10}};
  const pipeline::record written{{"_id", "65a1b2c3d4e5f60718293a4b"},
                                 {"nothing", nullptr},
                                 {"flag", true},
                                 {"small", 5},
                                 {"large", std::int64_t{9'007'199'254'740'993}},  // 2^53 + 1: exact only as int64
                                 {"negative", std::int64_t{-3'000'000'000}},
                                 {"ratio", 2.5},
                                 {"text", "Casa \xC3\xA0 venda \xE2\x82\xAC"},
                                 {"blob", blob},
                                 {"seen", when + std::chrono::microseconds{456}},  // below a millisecond: dropped
                                 {"tags", R"(["a", 1])"},
                                 {"address", R"({"city": "Lisbon", "zip": "1100"})"}};
  insert("types", {written}, {"tags", "address"});
  auto src = collection_source(db_.client(), {.database = db_.name(), .collection = "types"});
  auto read = records_of(drain(src));
  ASSERT_EQ(read.size(), 1u);
  const auto& r = read[0];
  std::vector<std::string> names;
  for (const auto& [name, v] : r) names.push_back(name);
  EXPECT_THAT(names, ::testing::ElementsAre("_id", "nothing", "flag", "small", "large", "negative", "ratio", "text",
                                            "blob", "seen", "tags", "address"));
  EXPECT_EQ(*r.find("_id"), pipeline::value{"65a1b2c3d4e5f60718293a4b"});
  EXPECT_TRUE(r.find("nothing")->is_null());
  EXPECT_EQ(*r.find("flag"), pipeline::value{true});
  EXPECT_TRUE(is_integer(*r.find("small"), 5)) << fmt::format("{}", *r.find("small"));
  EXPECT_EQ(*r.find("large"), pipeline::value{std::int64_t{9'007'199'254'740'993}});
  EXPECT_TRUE(is_integer(*r.find("negative"), -3'000'000'000)) << fmt::format("{}", *r.find("negative"));
  EXPECT_EQ(*r.find("ratio"), pipeline::value{2.5});
  EXPECT_EQ(*r.find("text"), pipeline::value{"Casa \xC3\xA0 venda \xE2\x82\xAC"});
  EXPECT_EQ(*r.find("blob"), pipeline::value{blob});
  EXPECT_EQ(*r.find("seen"), pipeline::value{when});
  // Relaxed Extended JSON text, as libbson writes it.
  EXPECT_EQ(*r.find("tags"), pipeline::value{R"([ "a", 1 ])"});
  EXPECT_EQ(*r.find("address"), pipeline::value{R"({ "city" : "Lisbon", "zip" : "1100" })"});
}

TEST_F(mongodb_source, filter_and_projection_apply) {
  insert("listings", listings(0, 20));
  auto src = collection_source(db_.client(), {.database = db_.name(), .collection = "listings", .key = "seq",
                                                    .filter_json = R"({"city": "Porto", "price": {"$gte": 1010}})",
                                                    .projection_json = R"({"_id": 0, "seq": 1, "price": 1})",
                                                    .batch_size = 3});
  auto read = records_of(drain(src));
  ASSERT_EQ(read.size(), 5u);  // 11, 13, 15, 17, 19
  for (std::size_t i = 0; i < read.size(); ++i) {
    const auto seq = static_cast<std::int64_t>(11 + 2 * i);
    EXPECT_EQ(read[i], (pipeline::record{{"seq", seq}, {"price", 1000 + seq}}));
  }
}

TEST_F(mongodb_source, object_id_keys_resume_after_a_batch_end) {
  insert("listings", listings(0, 25));
  auto first = collection_source(db_.client(), {.database = db_.name(), .collection = "listings", .batch_size = 10});
  auto b1 = first.next_batch({});
  ASSERT_TRUE(b1 && *b1);
  EXPECT_THAT((*b1)->end.bytes(), ::testing::StartsWith("oid:"));
  auto second = collection_source(db_.client(), {.database = db_.name(), .collection = "listings", .batch_size = 10});
  ASSERT_TRUE(second.seek((*b1)->end));
  auto rest = records_of(drain(second));
  ASSERT_EQ(rest.size(), 15u);
  EXPECT_EQ(*rest.front().find("seq"), pipeline::value{10});
  EXPECT_EQ(*rest.back().find("seq"), pipeline::value{24});
}

// A run stores its checkpoint in MongoDB; the next run, over a collection that grew, reads
// only the new documents.
TEST_F(mongodb_source, a_second_run_resumes_after_the_checkpoint) {
  insert("listings", listings(0, 50));
  auto checkpoints = checkpoint_store::open(db_.client(), {.database = db_.name()}).value();
  auto sink = collection_sink(db_.client(), {.database = db_.name(), .collection = "copy",
                                                   .mode = write_mode::upsert, .key_fields = {"seq"}});
  pipeline::memory_dlq dlq;
  const pipeline::runner_options options{.name = "copy-listings", .workers = 2, .checkpoint_interval = 0ms};
  const auto project = [](const pipeline::record& r) {
    return pipeline::record{{"seq", *r.find("seq")}, {"price", *r.find("price")}};
  };
  auto run_once = [&] {
    auto src = collection_source(db_.client(), {.database = db_.name(), .collection = "listings", .key = "seq",
                                                      .batch_size = 8});
    return pipeline::run(src, project, sink, dlq, checkpoints, options);
  };
  auto first = run_once();
  ASSERT_EQ(first.status, pipeline::run_status::completed) << (first.failure ? first.failure->message : "");
  EXPECT_EQ(first.read, 50u);
  EXPECT_EQ(first.checkpoint.bytes(), "int:49");
  insert("listings", listings(50, 30));
  auto second = run_once();
  ASSERT_EQ(second.status, pipeline::run_status::completed);
  EXPECT_EQ(second.read, 30u);
  EXPECT_EQ(second.checkpoint.bytes(), "int:79");
  EXPECT_EQ(db_.count("copy"), 80);
  EXPECT_TRUE(dlq.entries().empty());
  EXPECT_EQ(checkpoints.load("copy-listings")->pos.bytes(), "int:79");
}

TEST_F(mongodb_source, a_document_without_the_key_is_rejected_not_lost) {
  insert("listings", {{{"seq", 1}}, {{"other", 2}}, {{"seq", 3}}});
  auto src = collection_source(db_.client(), {.database = db_.name(), .collection = "listings", .key = "seq"});
  auto batches = drain(src);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].records.size(), 2u);
  ASSERT_EQ(batches[0].rejected.size(), 1u);
  EXPECT_EQ(batches[0].rejected[0].reason.kind, pipeline::error_kind::invalid_input);
  EXPECT_THAT(batches[0].rejected[0].reason.message, ::testing::HasSubstr("no 'seq'"));
  EXPECT_THAT(batches[0].rejected[0].payload, ::testing::HasSubstr(R"("other" : 2)"));
}

TEST_F(mongodb_source, a_position_it_did_not_make_is_invalid_input) {
  auto src = collection_source(db_.client(), {.database = db_.name(), .collection = "listings"});
  auto sought = src.seek(pipeline::position::from_integer(42));
  ASSERT_FALSE(sought);
  EXPECT_EQ(sought.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_FALSE(src.seek(pipeline::position{"oid:xyz"}));
  EXPECT_TRUE(src.seek(pipeline::position{}));
}

TEST_F(mongodb_source, a_filter_that_is_not_json_is_refused_at_open) {
  EXPECT_THROW((void)collection_source(db_.client(), {.database = db_.name(), .collection = "c", .filter_json = "{city:"}),
               std::invalid_argument);
  EXPECT_THROW((void)collection_source(db_.client(), {.database = db_.name(), .collection = "c", .batch_size = 0}),
               std::invalid_argument);
}

}  // namespace
