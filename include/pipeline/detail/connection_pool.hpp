#pragma once

// The connections a server adapter's `database` keeps for reuse (mysql, postgres), the outage
// they share, and a connection borrowed from them for one operation. Adapter internals: the
// adapter's own connection type stays incomplete here, and its members are only used where
// the adapter instantiates these templates (its src/).

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <pipeline/backoff.hpp>
#include <pipeline/log.hpp>
#include <pipeline/detail/outage.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail {

/// How long, and how, a pool waits out its server's outage (the adapter's `database_options`
/// hold the same three fields).
struct outage_policy {
  std::chrono::milliseconds budget{default_outage_budget};
  backoff_options reconnect{default_reconnect_backoff};
  logger log{};
};

template <class Connection>
class connection_pool;

/// A connection borrowed from a pool for one operation: given back when destroyed, or closed
/// if `Connection::reusable()` says it cannot serve again (lost, mid-transaction). Not
/// thread-safe: one user, as the connection.
template <class Connection>
class pool_lease {
 public:
  pool_lease(connection_pool<Connection>& pool, std::unique_ptr<Connection> c) noexcept
      : pool_(&pool), c_(std::move(c)) {}
  pool_lease(pool_lease&&) noexcept = default;
  auto operator=(pool_lease&&) -> pool_lease& = delete;
  pool_lease(const pool_lease&) = delete;
  ~pool_lease() {
    if (c_ != nullptr) pool_->give_back(std::move(c_));
  }
  [[nodiscard]] auto operator*() const noexcept -> Connection& { return *c_; }
  [[nodiscard]] auto operator->() const noexcept -> Connection* { return c_.get(); }

 private:
  connection_pool<Connection>* pool_;
  std::unique_ptr<Connection> c_;
};

/// Idle connections to one server, at most `max_idle` of them, and that server's outage.
/// Thread-safe: every member may be called from any thread.
template <class Connection>
class connection_pool {
 public:
  /// `server` names the server in the outage log and errors ("mysql: 127.0.0.1:3306").
  connection_pool(std::string server, std::size_t max_idle, outage_policy policy)
      : outage_(std::move(server)), max_idle_(max_idle), policy_(std::move(policy)) {}

  /// `attempt()` (returning a `result`) again, with backoff, while it fails with an error
  /// `is_outage` accepts, until the outage has lasted the budget or `stop` fires (wait_out).
  template <class Attempt, class IsOutage>
  [[nodiscard]] auto wait_out(const std::stop_token& stop, Attempt&& attempt, IsOutage&& is_outage)
      -> decltype(attempt()) {
    return pipeline::detail::wait_out(outage_, policy_.budget, policy_.reconnect, policy_.log, stop,
                                      std::forward<Attempt>(attempt), std::forward<IsOutage>(is_outage));
  }

  /// An idle connection, or a new one from `open()` (returning `result<unique_ptr<Connection>>`),
  /// tried once.
  template <class Open>
  [[nodiscard]] auto borrow_once(Open&& open) -> result<pool_lease<Connection>> {
    {
      std::lock_guard lock{mutex_};
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return pool_lease<Connection>{*this, std::move(c)};
      }
    }
    auto c = open();
    if (!c) return std::move(c).error();
    return pool_lease<Connection>{*this, std::move(*c)};
  }

  /// As `borrow_once`, a connect during an outage waited out, up to `stop`.
  template <class Open, class IsOutage>
  [[nodiscard]] auto borrow(const std::stop_token& stop, Open&& open, IsOutage&& is_outage)
      -> result<pool_lease<Connection>> {
    return wait_out(stop, [&] { return borrow_once(open); }, std::forward<IsOutage>(is_outage));
  }

  /// `body(Connection&)`, which only reads, on a borrowed connection; when the connection is
  /// lost (or cannot be made) during an outage, again on a new one, until the outage budget is
  /// spent or `stop` fires. Only for reads: a write whose connection broke may have committed.
  template <class Open, class IsOutage, class Body>
  [[nodiscard]] auto read(const std::stop_token& stop, Open&& open, IsOutage&& is_outage, Body&& body)
      -> decltype(body(std::declval<Connection&>())) {
    return wait_out(
        stop,
        [&]() -> decltype(body(std::declval<Connection&>())) {
          auto c = borrow_once(open);
          if (!c) return std::move(c).error();
          return body(**c);
        },
        std::forward<IsOutage>(is_outage));
  }

  /// Keeps `c` for reuse; one that is not `reusable()` is closed, and the idle ones with it: a
  /// server that restarted ended them all, and each would cost its next user a failed
  /// statement. The next borrow opens a fresh one.
  void give_back(std::unique_ptr<Connection> c) noexcept {
    if (!c->reusable()) {
      std::vector<std::unique_ptr<Connection>> idle;
      {
        std::lock_guard lock{mutex_};
        idle.swap(idle_);
      }
      return;  // closed outside the lock
    }
    std::lock_guard lock{mutex_};
    if (idle_.size() < max_idle_) {
      try {
        idle_.push_back(std::move(c));
      } catch (...) {  // no memory for the slot: close it instead
      }
    }
  }

 private:
  outage_watch outage_;  // one outage for every connection to the server
  std::size_t max_idle_;
  outage_policy policy_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

/// How an adapter's code reaches its `database`'s pool, written once for the adapters with a
/// pool (mysql, postgres). `Access` is the adapter's `detail::database_access`, a friend of its
/// `database`, deriving from this: it gives `pool(db)` and `open(db)` (a new connection);
/// `is_outage` tells the errors to wait out. Stateless; thread-safe as the pool is.
template <class Access, class Database, class Connection, auto is_outage>
struct pool_access {
  /// A pooled connection, or a new one; a connect during an outage is waited out (see the
  /// adapter's `database`), up to `stop`.
  [[nodiscard]] static auto borrow(Database& db, const std::stop_token& stop = {}) -> result<pool_lease<Connection>> {
    return Access::pool(db).borrow(stop, [&] { return Access::open(db); }, is_outage);
  }
  /// A connection of its own, outside the pool (a cursor that holds it for a long read, a
  /// queue consumer's LISTENing one), waited for as `borrow` does.
  [[nodiscard]] static auto open_dedicated(Database& db, const std::stop_token& stop = {})
      -> result<std::unique_ptr<Connection>> {
    return Access::pool(db).wait_out(stop, [&] { return Access::open(db); }, is_outage);
  }
  /// `body(Connection&)`, which only reads, run again on a new connection when its own was
  /// lost during an outage (`connection_pool::read`).
  template <class Body>
  [[nodiscard]] static auto read(Database& db, const std::stop_token& stop, Body&& body)
      -> decltype(body(std::declval<Connection&>())) {
    return Access::pool(db).read(stop, [&] { return Access::open(db); }, is_outage, std::forward<Body>(body));
  }
};

}  // namespace pipeline::detail
