#pragma once

#include <memory>
#include <string>

#include <pipeline/basic_checkpoint_store.hpp>
#include <pipeline/checkpoint.hpp>
#include <pipeline/redis/client.hpp>

namespace pipeline::redis {

struct checkpoint_store_options {
  /// Keys are `<prefix>:checkpoint:<key>`, each a hash {pos, version}. Write the prefix in
  /// braces ("{etl}") to keep every key of a pipeline in one cluster slot.
  std::string prefix{"pipeline"};
};

/// Checkpoints in Redis hashes, with version fencing across threads, processes and machines:
/// a `pipeline::basic_checkpoint_store` (whose header documents `load`, `save` and `keys`).
///
/// `save` is one Lua script: it compares the stored version with the expected one and, only
/// when they match, stores the position and version + 1, so two savers holding the same
/// version cannot both win, and a stale process cannot move a checkpoint back (`conflict`).
/// Positions are kept byte for byte. Durability is the server's (AOF/RDB settings). `keys`
/// is a SCAN over `<prefix>:checkpoint:*`, in byte order (in a Redis Cluster, the keys on the
/// node the client talks to).
///
/// Contract: thread-safe (through the shared `client`); blocking. Copies share the client.
/// Errors as `client` describes; a stored version that is not a number (edited by hand)
/// loads as a `permanent` error, never as version 0.
///
///     auto store = pipeline::redis::checkpoint_store{client, {.prefix = "{orders}"}};
///     auto cp = store.load("orders/p3");
///     auto v = store.save("orders/p3", batch.end, cp->version);
class checkpoint_store : public pipeline::basic_checkpoint_store {
 public:
  /// Throws std::invalid_argument if `c` is null or the prefix is empty.
  checkpoint_store(std::shared_ptr<client> c, checkpoint_store_options options = {});
};

static_assert(pipeline::checkpoint_store<checkpoint_store>);

}  // namespace pipeline::redis
