#pragma once
// The inside of mongodb::client, for the adapter's own sources, sinks and stores.

#include <string_view>

#include <pipeline/mongodb/client.hpp>
#include <pipeline/result.hpp>

#include "handles.hpp"

namespace pipeline::mongodb {

struct client::impl {
  detail::pool_ptr pool;
};

namespace detail {

struct client_access {
  static auto pool(client& c) noexcept -> mongoc_client_pool_t* { return c.impl_->pool.get(); }
};

/// A collection handle on a borrowed connection; both go back when this goes out of scope.
class collection_handle {
 public:
  collection_handle(client& c, std::string_view database, std::string_view collection);
  [[nodiscard]] auto get() const noexcept -> mongoc_collection_t* { return collection_.get(); }
  [[nodiscard]] auto connection() const noexcept -> mongoc_client_t* { return client_.get(); }

 private:
  pooled_client client_;  // declared first: destroyed after the collection made from it
  collection_ptr collection_;
};

/// Creates an index (createIndexes; an identical existing one is fine); with `partial`, only
/// over the documents that match it (partialFilterExpression).
[[nodiscard]] auto create_index(client& c, std::string_view database, std::string_view collection, const bson_t& keys,
                                std::string_view name, bool unique, const bson_t* partial = nullptr) -> result<void>;

}  // namespace detail
}  // namespace pipeline::mongodb
