#pragma once
// Shared by the MongoDB tests: a database of their own on the server scripts/services.sh
// started (dropped afterwards), and a way to read documents back through libmongoc itself,
// so that what a sink wrote is checked without the adapter's own reading code.

#include <pipeline/mongodb/mongodb.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include "support/mongodb_tsan.hpp"
#include "support/services.hpp"

namespace mongodb_test {

inline auto uri() -> std::string { return pipeline::test::service_uri("PIPELINE_MONGODB_TEST_URI"); }

/// A database no other test uses, dropped when this goes out of scope.
class test_database {
 public:
  test_database() : client_(pipeline::mongodb::client::open(uri())), name_(pipeline::test::unique_name("pl")) {
    // Database names are limited to 63 bytes on MongoDB.
    if (name_.size() > 60) name_ = name_.substr(0, 30) + name_.substr(name_.size() - 30);
  }
  ~test_database() { (void)client_->drop_database(name_); }
  test_database(const test_database&) = delete;
  auto operator=(const test_database&) -> test_database& = delete;

  [[nodiscard]] auto client() const -> const std::shared_ptr<pipeline::mongodb::client>& { return client_; }
  [[nodiscard]] auto name() const -> const std::string& { return name_; }
  [[nodiscard]] auto count(const std::string& collection, const std::string& filter = "{}") const -> std::int64_t {
    return client_->count(name_, collection, filter).value();
  }

 private:
  std::shared_ptr<pipeline::mongodb::client> client_;
  std::string name_;
};

/// The raw documents of a collection, as relaxed Extended JSON, read with libmongoc directly.
class raw_reader {
 public:
  explicit raw_reader(const std::string& database) : database_(database) {
    client_ = mongoc_client_new(uri().c_str());
    mongoc_client_set_error_api(client_, MONGOC_ERROR_API_VERSION_2);
  }
  ~raw_reader() { mongoc_client_destroy(client_); }
  raw_reader(const raw_reader&) = delete;
  auto operator=(const raw_reader&) -> raw_reader& = delete;

  /// Calls `each(const bson_t&)` for every document of `collection`.
  template <class F>
  void for_each(const std::string& collection, F&& each) const {
    mongoc_collection_t* coll = mongoc_client_get_collection(client_, database_.c_str(), collection.c_str());
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, &filter, nullptr, nullptr);
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor, &doc)) each(*doc);
    bson_error_t e;
    const bool failed = mongoc_cursor_error(cursor, &e);
    mongoc_cursor_destroy(cursor);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    if (failed) ADD_FAILURE() << "reading " << collection << " failed: " << e.message;
  }

  /// Each document's fields `id` (a number) and `name` (a string) as a record; other
  /// fields (the `_id` the server or the sink gave) are left out.
  auto id_name_records(const std::string& collection) const -> std::vector<pipeline::record> {
    std::vector<pipeline::record> out;
    for_each(collection, [&](const bson_t& doc) {
      bson_iter_t id;
      bson_iter_t name;
      if (!bson_iter_init_find(&id, &doc, "id") || !bson_iter_init_find(&name, &doc, "name") ||
          !BSON_ITER_HOLDS_NUMBER(&id) || !BSON_ITER_HOLDS_UTF8(&name)) {
        ADD_FAILURE() << "a document without a numeric id and a string name";
        return;
      }
      out.push_back({{"id", bson_iter_as_int64(&id)}, {"name", std::string(bson_iter_utf8(&name, nullptr))}});
    });
    return out;
  }

 private:
  std::string database_;
  mongoc_client_t* client_ = nullptr;
};

}  // namespace mongodb_test
