#pragma once
// The inside of mongodb::client, for the adapter's own sources, sinks and stores.

#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/detail/outage.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/result.hpp>

#include "errors.hpp"
#include "handles.hpp"

namespace pipeline::mongodb {

struct client::impl {
  impl(detail::pool_ptr p, client_options o, std::string server, std::string db)
      : pool(std::move(p)), options(std::move(o)), outage(std::move(server)), database(std::move(db)) {}
  detail::pool_ptr pool;
  client_options options;
  pipeline::detail::outage_watch outage;  // one outage for every operation on the deployment
  std::string database;                    // the URI's, "" when none
};

namespace detail {

struct client_access {
  static auto pool(client& c) noexcept -> mongoc_client_pool_t* { return c.impl_->pool.get(); }

  /// `attempt()`, an operation that may run twice (a read, or a write that changes nothing
  /// when repeated), tried again after any outage error (`is_outage`) until the client's
  /// outage budget is spent or `stop` fires. `attempt` borrows its own connection each time.
  template <class Attempt>
  [[nodiscard]] static auto rerun(client& c, const std::stop_token& stop, Attempt&& attempt) -> decltype(attempt()) {
    return wait_out(c, stop, std::forward<Attempt>(attempt), is_outage);
  }

  /// `attempt()`, a write that must not land twice, tried again only while it never reached a
  /// server (`never_sent`); a connection lost after sending is the caller's error.
  template <class Attempt>
  [[nodiscard]] static auto send_once(client& c, const std::stop_token& stop, Attempt&& attempt)
      -> decltype(attempt()) {
    return wait_out(c, stop, std::forward<Attempt>(attempt), never_sent);
  }

 private:
  template <class Attempt, class Retryable>
  static auto wait_out(client& c, const std::stop_token& stop, Attempt&& attempt, Retryable retryable)
      -> decltype(attempt()) {
    auto& state = *c.impl_;
    return pipeline::detail::wait_out(state.outage, state.options.outage_budget, state.options.reconnect,
                                      state.options.log, stop, std::forward<Attempt>(attempt), retryable);
  }
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

/// The distinct values of the text field `field` in a collection (`distinct`), sorted; a value
/// that is not text is a `permanent` error.
[[nodiscard]] auto distinct_texts(client& c, std::string_view database, std::string_view collection,
                                  const char* field) -> result<std::vector<std::string>>;

}  // namespace detail
}  // namespace pipeline::mongodb
