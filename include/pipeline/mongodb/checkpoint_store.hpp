#pragma once

#include <memory>
#include <string>
#include <utility>

#include <pipeline/basic_checkpoint_store.hpp>
#include <pipeline/checkpoint.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mongodb {

struct checkpoint_store_options {
  std::string database{};
  /// One document per key: `{key: string, position: binary, version: int64, updated_at: date}`.
  std::string collection{"pipeline_checkpoints"};
};

/// Checkpoints in a collection, with version fencing across threads and processes: a
/// `pipeline::basic_checkpoint_store` (whose header documents `load`, `save` and `keys`).
///
/// `save` with a version above 0 is one `replaceOne({key, version: expected}, {key, …})`:
/// the filter on the version makes compare-and-set atomic on the server; no match is a
/// `conflict` naming the stored version, and nothing changed. A first save (version 0) finds
/// the key absent, then is one `findAndModify({key}, {$setOnInsert: …}, upsert)`: it wins
/// only if no document was there. `open` creates a unique index on `key`, so that two first saves racing on real
/// MongoDB cannot both insert (CongoDB does not enforce unique indexes; see the docs).
/// Positions are kept byte for byte (binary). A save whose reply was lost in an outage and
/// that is sent again (the runner retries it) finds itself done, one version up at its
/// position, and succeeds. `load` and `save` wait out an outage as `client` says (they have
/// no stop token: up to the outage budget). `keys` is one `distinct` on `key`, in byte order.
///
/// Contract: thread-safe (pooled connections); blocking. Copies share the client and the
/// collection. A stored document whose version or position has another type (edited by
/// hand) loads as a `permanent` error, never as version 0.
///
///     auto store = pipeline::mongodb::checkpoint_store::open(mongo, {.database = "etl"}).value();
///     auto cp = store.load("listings");
///     auto v = store.save("listings", batch.end, cp->version);
class checkpoint_store : public pipeline::basic_checkpoint_store {
 public:
  /// Creates the unique index on `key`. Throws std::invalid_argument if `c` is null or a name
  /// is empty.
  [[nodiscard]] static auto open(std::shared_ptr<client> c, checkpoint_store_options options)
      -> result<checkpoint_store>;

 private:
  explicit checkpoint_store(std::shared_ptr<pipeline::detail::checkpoint_backend> documents) noexcept
      : basic_checkpoint_store(std::move(documents)) {}
};

static_assert(pipeline::checkpoint_store<checkpoint_store>);

}  // namespace pipeline::mongodb
