// The console's JSON API over the stores of MongoDB (the server of scripts/services.sh) and of
// a file directory: lists, a letter by id, purge and checkpoint reset with the token (401
// without), the effects read back through the adapters' own stores.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include <pipeline/console/console.hpp>
#include <pipeline/console/store.hpp>
#include <pipeline/file/file.hpp>
#include <pipeline/mongodb/mongodb.hpp>

#include "console/console_test_support.hpp"
#include "support/admin_stores.hpp"
#include "support/mongodb_tsan.hpp"
#include "support/services.hpp"

namespace {

using namespace console_test;

// A store of one kind, filled by fill_admin_stores and the hostile letters: the URI the
// console opens, and the adapter's own view of its letters and checkpoint.
class filled_store {
 public:
  virtual ~filled_store() = default;
  [[nodiscard]] virtual auto uri() const -> std::string = 0;
  [[nodiscard]] virtual auto pending_letters() -> std::size_t = 0;
  [[nodiscard]] virtual auto stored_checkpoint() -> pipeline::checkpoint = 0;
};

// A database name within MongoDB's 63 bytes, keeping the unique end.
auto short_name(const std::string& name) -> std::string {
  return name.size() > 60 ? name.substr(0, 30) + name.substr(name.size() - 30) : name;
}

// The default collections of a database of its own, dropped at the end.
class mongodb_store final : public filled_store {
 public:
  mongodb_store()
      : base_(pipeline::test::service_uri("PIPELINE_MONGODB_TEST_URI")),
        database_(short_name(pipeline::test::unique_name("console"))),
        client_(pipeline::mongodb::client::open(uri())),
        letters_(client_, {.database = database_}) {
    auto log = pipeline::mongodb::job_log::open(client_, {.database = database_}).value();
    auto checkpoints = pipeline::mongodb::checkpoint_store::open(client_, {.database = database_}).value();
    pipeline::test::fill_admin_stores(log, checkpoints, letters_);
    letters_.write(pipeline::test::hostile_letters(), {}).value();
  }
  ~mongodb_store() override { (void)client_->drop_database(database_); }
  mongodb_store(const mongodb_store&) = delete;
  auto operator=(const mongodb_store&) -> mongodb_store& = delete;

  [[nodiscard]] auto uri() const -> std::string override {
    const auto query = base_.find('?');
    auto address = base_.substr(0, query);
    if (address.ends_with('/')) address.pop_back();
    return address + "/" + database_ + (query == std::string::npos ? "" : base_.substr(query));
  }
  auto pending_letters() -> std::size_t override { return letters_.read({}, std::nullopt, 1000, {}).value().size(); }
  auto stored_checkpoint() -> pipeline::checkpoint override {
    return pipeline::mongodb::checkpoint_store::open(client_, {.database = database_}).value().load("listings/p0").value();
  }

 private:
  std::string base_;
  std::string database_;
  std::shared_ptr<pipeline::mongodb::client> client_;
  pipeline::mongodb::dead_letter_collection letters_;
};

// The file store's default names in a directory of its own, removed at the end.
class directory_store final : public filled_store {
 public:
  directory_store()
      : directory_(std::filesystem::temp_directory_path() / pipeline::test::unique_name("console")),
        letters_((std::filesystem::create_directories(directory_), directory_ / "dead_letters.jsonl")) {
    pipeline::file::job_log log{directory_ / "jobs"};
    pipeline::file::checkpoint_store checkpoints{directory_ / "checkpoints"};
    pipeline::test::fill_admin_stores(log, checkpoints, letters_);
    letters_.write(pipeline::test::hostile_letters(), {}).value();
  }
  ~directory_store() override { std::filesystem::remove_all(directory_); }
  directory_store(const directory_store&) = delete;
  auto operator=(const directory_store&) -> directory_store& = delete;

  [[nodiscard]] auto uri() const -> std::string override { return "file:" + directory_.string(); }
  auto pending_letters() -> std::size_t override { return letters_.read({}, std::nullopt, 1000, {}).value().size(); }
  auto stored_checkpoint() -> pipeline::checkpoint override {
    return pipeline::file::checkpoint_store{directory_ / "checkpoints"}.load("listings/p0").value();
  }

 private:
  std::filesystem::path directory_;
  pipeline::file::dead_letter_file letters_;
};

enum class kind { mongodb, directory };

class console_store_kinds : public ::testing::TestWithParam<kind> {
 protected:
  void SetUp() override {
    if (GetParam() == kind::mongodb) {
      store_ = std::make_unique<mongodb_store>();
    } else {
      store_ = std::make_unique<directory_store>();
    }
    std::vector<pipeline::admin::console_store> stores;
    stores.push_back({"state", pipeline::admin::open_store(store_->uri(), {}).value(), {}});
    pipeline::admin::console_options options;
    options.token = std::string(token);
    web_ = std::make_unique<served_console>(std::move(stores), std::move(options));
  }

  std::unique_ptr<filled_store> store_;
  std::unique_ptr<served_console> web_;
};

TEST_P(console_store_kinds, lists_runs_letters_and_checkpoints_with_the_token_only) {
  auto c = web_->client();
  EXPECT_EQ(c.Get("/api/runs")->status, 401);
  EXPECT_EQ(c.Get("/api/letters")->status, 401);
  EXPECT_EQ(c.Get("/api/checkpoints")->status, 401);
  const auto runs = body_json(c.Get("/api/runs", bearer(token)));
  ASSERT_EQ(runs.size(), 3U) << runs.dump();
  const auto letters = body_json(c.Get("/api/letters?kind=permanent&job=listings", bearer(token)))["letters"];
  ASSERT_EQ(letters.size(), 3U) << letters.dump();  // two "duplicate key", one "too large"
  const auto first = body_json(c.Get("/api/letter?id=" + letters[0]["id"].get<std::string>(), bearer(token)));
  EXPECT_EQ(first["payload"], "{\"id\":1}");
  EXPECT_EQ(body_json(c.Get("/api/checkpoints", bearer(token))), json({"listings/p0", "reports/2026-05"}));
  const auto cp = body_json(c.Get("/api/checkpoint?key=listings/p0", bearer(token)));
  EXPECT_EQ(cp["position"], "4200");
  EXPECT_EQ(cp["version"], 1);
}

TEST_P(console_store_kinds, a_letter_that_is_not_there_is_404_and_a_malformed_id_400) {
  auto c = web_->client();
  const auto missing = GetParam() == kind::mongodb ? "0123456789abcdef01234567" : "999";
  EXPECT_EQ(c.Get(std::string("/api/letter?id=") + missing, bearer(token))->status, 404);
  EXPECT_EQ(c.Get("/api/letter?id=not-an-id", bearer(token))->status, 400);
}

TEST_P(console_store_kinds, purge_needs_the_token_and_removes_what_matches) {
  auto c = web_->client();
  EXPECT_EQ(c.Post("/api/purge?kind=permanent&job=listings")->status, 401);
  EXPECT_EQ(store_->pending_letters(), 6U);
  auto purged = c.Post("/api/purge?kind=permanent&job=listings", bearer(token), "", "text/plain");
  ASSERT_TRUE(purged);
  EXPECT_EQ(purged->status, 200) << purged->body;
  EXPECT_EQ(json::parse(purged->body)["purged"], 3);
  EXPECT_EQ(store_->pending_letters(), 3U);
}

TEST_P(console_store_kinds, checkpoint_reset_needs_the_token_and_starts_over) {
  auto c = web_->client();
  EXPECT_EQ(c.Post("/api/checkpoint/reset?key=listings/p0")->status, 401);
  EXPECT_EQ(store_->stored_checkpoint().version, 1U);
  auto reset = c.Post("/api/checkpoint/reset?key=listings/p0", bearer(token), "", "text/plain");
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->status, 200) << reset->body;
  const auto cp = store_->stored_checkpoint();
  EXPECT_TRUE(cp.pos.empty());
  EXPECT_EQ(cp.version, 2U);
}

INSTANTIATE_TEST_SUITE_P(console, console_store_kinds, ::testing::Values(kind::mongodb, kind::directory),
                         [](const ::testing::TestParamInfo<kind>& param) {
                           return param.param == kind::mongodb ? std::string("mongodb") : std::string("directory");
                         });

}  // namespace
