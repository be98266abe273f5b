#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/checkpoint.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail {

/// What an adapter's checkpoint store does, one virtual per operation of
/// `basic_checkpoint_store` (whose comments give the contract). Implemented in the adapter's
/// .cpp; never copied (every copy of the store shares one).
class checkpoint_backend {
 public:
  checkpoint_backend() = default;
  checkpoint_backend(const checkpoint_backend&) = delete;
  auto operator=(const checkpoint_backend&) -> checkpoint_backend& = delete;
  virtual ~checkpoint_backend() = default;

  virtual auto load(std::string_view key) -> result<checkpoint> = 0;
  virtual auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> = 0;
  virtual auto keys() -> result<std::vector<std::string>> = 0;
};

}  // namespace pipeline::detail

namespace pipeline {

/// The checkpoint store of every adapter (`sqlite::`, `mysql::`, `postgres::`, `mongodb::`,
/// `redis::`, `file::checkpoint_store` derive from it): one type that holds any of them
/// without a template, e.g. to choose the store at run time, and that `pipeline-admin` lists.
/// Models `pipeline::checkpoint_store`. Each adapter's header says how it stores checkpoints.
///
/// Use this to hold the library's stores; use `any_checkpoint_store` for a store of your own
/// (any type modelling the concept, `memory_checkpoint_store` included).
///
/// Thread-safe (every adapter's store is). Copies share one store (one connection pool, table
/// or directory); the store lives as long as its last copy. A moved-from object may only be
/// destroyed or assigned. Each call is one virtual call to the adapter; blocking.
///
///     pipeline::basic_checkpoint_store store = pipeline::sqlite::checkpoint_store::open(db).value();
///     auto cp = store.load("orders/p3");                          // {pos, version}
///     auto v = store.save("orders/p3", batch.end, cp->version);   // conflict if another won
class basic_checkpoint_store {
 public:
  /// The checkpoint stored under `key`, or version 0 and an empty position when there is none.
  /// A stored one that cannot be read back (edited by hand, damaged) is a `permanent` error,
  /// never version 0, which would start the pipeline over.
  [[nodiscard]] auto load(std::string_view key) -> result<checkpoint> { return backend_->load(key); }

  /// Stores `pos` under `key` only if the stored version is still `expected_version` (0:
  /// nothing stored yet) and returns the new version, `expected_version + 1`; otherwise a
  /// `conflict` error naming the stored version, and nothing changed. Fenced across threads
  /// and processes (and machines, for the servers). A save sent again after its reply was lost
  /// succeeds where the adapter's header says so.
  [[nodiscard]] auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> {
    return backend_->save(key, pos, expected_version);
  }

  /// The keys that have a checkpoint, sorted (byte order, or the database's text order):
  /// what `pipeline-admin checkpoint list` shows.
  [[nodiscard]] auto keys() -> result<std::vector<std::string>> { return backend_->keys(); }

 protected:
  explicit basic_checkpoint_store(std::shared_ptr<detail::checkpoint_backend> backend) noexcept
      : backend_(std::move(backend)) {}

  /// The adapter's backend, for the adapter's own members.
  [[nodiscard]] auto backend() const noexcept -> detail::checkpoint_backend& { return *backend_; }

 private:
  std::shared_ptr<detail::checkpoint_backend> backend_;
};

}  // namespace pipeline
