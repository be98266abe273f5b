#pragma once
// RAII owners for libmongoc/libbson handles, so that every path frees what it made.

#include <memory>
#include <utility>

#include <mongoc/mongoc.h>

namespace pipeline::mongodb::detail {

struct cursor_deleter {
  void operator()(mongoc_cursor_t* c) const noexcept { mongoc_cursor_destroy(c); }
};
struct collection_deleter {
  void operator()(mongoc_collection_t* c) const noexcept { mongoc_collection_destroy(c); }
};
struct bulk_deleter {
  void operator()(mongoc_bulk_operation_t* b) const noexcept { mongoc_bulk_operation_destroy(b); }
};
struct uri_deleter {
  void operator()(mongoc_uri_t* u) const noexcept { mongoc_uri_destroy(u); }
};
struct pool_deleter {
  void operator()(mongoc_client_pool_t* p) const noexcept { mongoc_client_pool_destroy(p); }
};
struct chars_deleter {
  void operator()(char* s) const noexcept { bson_free(s); }
};

/// An owned heap bson_t (bson_new and friends). Not a unique_ptr<bson_t>: bson_t carries an
/// alignment attribute that template arguments drop (-Wignored-attributes).
class bson_ptr {
 public:
  bson_ptr() noexcept = default;
  explicit bson_ptr(bson_t* doc) noexcept : doc_(doc) {}
  bson_ptr(bson_ptr&& other) noexcept : doc_(std::exchange(other.doc_, nullptr)) {}
  auto operator=(bson_ptr&& other) noexcept -> bson_ptr& {
    if (this != &other) {
      reset();
      doc_ = std::exchange(other.doc_, nullptr);
    }
    return *this;
  }
  ~bson_ptr() { reset(); }
  void reset() noexcept {
    if (doc_ != nullptr) bson_destroy(doc_);
    doc_ = nullptr;
  }
  [[nodiscard]] auto get() const noexcept -> bson_t* { return doc_; }
  explicit operator bool() const noexcept { return doc_ != nullptr; }

 private:
  bson_t* doc_ = nullptr;
};
using cursor_ptr = std::unique_ptr<mongoc_cursor_t, cursor_deleter>;
using collection_ptr = std::unique_ptr<mongoc_collection_t, collection_deleter>;
using bulk_ptr = std::unique_ptr<mongoc_bulk_operation_t, bulk_deleter>;
using uri_ptr = std::unique_ptr<mongoc_uri_t, uri_deleter>;
using pool_ptr = std::unique_ptr<mongoc_client_pool_t, pool_deleter>;
using chars_ptr = std::unique_ptr<char, chars_deleter>;

/// A bson_t on the stack: initialised empty, destroyed at scope end. Not copyable or movable
/// (a stack bson_t may point into itself).
class scoped_bson {
 public:
  scoped_bson() noexcept { bson_init(&doc_); }
  ~scoped_bson() { bson_destroy(&doc_); }
  scoped_bson(const scoped_bson&) = delete;
  auto operator=(const scoped_bson&) -> scoped_bson& = delete;
  [[nodiscard]] auto get() noexcept -> bson_t* { return &doc_; }
  [[nodiscard]] auto get() const noexcept -> const bson_t* { return &doc_; }

 private:
  bson_t doc_;
};

/// A client popped from a pool, pushed back when this goes out of scope.
class pooled_client {
 public:
  explicit pooled_client(mongoc_client_pool_t* pool) noexcept : pool_(pool), client_(mongoc_client_pool_pop(pool)) {}
  ~pooled_client() {
    if (client_ != nullptr) mongoc_client_pool_push(pool_, client_);
  }
  pooled_client(const pooled_client&) = delete;
  auto operator=(const pooled_client&) -> pooled_client& = delete;
  [[nodiscard]] auto get() const noexcept -> mongoc_client_t* { return client_; }

 private:
  mongoc_client_pool_t* pool_;
  mongoc_client_t* client_;
};

/// mongoc_init() once per process, mongoc_cleanup() at exit (libmongoc cannot be initialised
/// again after a cleanup, so it is never done earlier).
void ensure_initialised();

}  // namespace pipeline::mongodb::detail
