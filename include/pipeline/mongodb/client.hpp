#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include <pipeline/backoff.hpp>
#include <pipeline/detail/outage.hpp>
#include <pipeline/log.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mongodb {

namespace detail {
struct client_access;
}

/// How a `client` connects. Each timeout applies only when the URI does not set its own
/// (`connectTimeoutMS`, `serverSelectionTimeoutMS`, `socketTimeoutMS`): the URI wins.
struct client_options {
  std::chrono::milliseconds connect_timeout{5'000};
  /// How long one try of an operation waits for a usable server (libmongoc's server
  /// selection); during an outage the tries go on for `outage_budget`.
  std::chrono::milliseconds server_selection_timeout{5'000};
  std::chrono::milliseconds socket_timeout{30'000};
  /// Connections in the pool, one per concurrent operation; a source holds one for its life.
  std::size_t max_pool_size{16};
  std::string app_name{"pipeline"};  ///< shown in the server's log and currentOp
  /// How long operations keep trying while the server is away (see `client`): from the first
  /// failure of an outage, whichever operation saw it. 0: never wait, the first failure is the
  /// error. The URI's `outage-budget-ms=N` sets it too (spelt as in `mysql://` URIs).
  std::chrono::milliseconds outage_budget{pipeline::detail::default_outage_budget};
  /// The waits between tries during an outage (`max_attempts` and `max_elapsed` are not used:
  /// `outage_budget` ends the waiting).
  backoff_options reconnect{pipeline::detail::default_reconnect_backoff};
  /// Where the start and the end of an outage are logged (warnings).
  logger log{};
};

/// A connection pool to one MongoDB deployment, shared by the sources, sinks and stores made
/// from it.
///
/// The URI carries everything libmongoc reads from a `mongodb://` URI: hosts, credentials
/// (`user:pass@`, `authSource`, `authMechanism`), TLS (`tls=true`, `tlsCAFile`,
/// `tlsCertificateKeyFile`, `tlsAllowInvalidHostnames`, …), replica set, read and write
/// concern. Credentials belong in the URI or the environment, never in code.
///
/// Outages are waited out: an operation that finds no server (server selection failed: the
/// server is down, restarting or not up yet, or refused the connection) is tried again with
/// backoff (`client_options::reconnect`) until it succeeds or the outage has lasted
/// `outage_budget`, and so is a read (or a write that changes nothing when repeated) whose
/// connection was lost or that the server refused as it shut down or stepped down. A write
/// that may not be repeated and whose connection was lost after it was sent is not sent
/// again here: it may have landed, so it fails `transient` and the runner retries the batch
/// (see `collection_sink` and docs/adapters/mongodb.md for what that retry does). The client
/// logs a warning when an outage starts ("mongodb: host:port unavailable …, waiting up to …")
/// and when the server is back ("… is back after 3.2 s"). The outage is the client's, not the
/// operation's: once its budget is spent, each operation tries once and fails at once, until
/// one succeeds; then it is a `transient` error naming how long the server was away. An
/// operation with a stop token (a source's or sink's) stops waiting when it fires (`stopped`);
/// the checkpoint store's and job log's calls have none and wait the budget.
///
/// Contract: thread-safe (a libmongoc client pool; each operation borrows a connection and
/// returns it). Connecting is lazy: `open` checks the URI only; the first operation (or
/// `ping`) meets the server, waiting for it as above. Held by `std::shared_ptr`: every object made from it keeps it
/// alive. libmongoc is initialised once per process and cleaned up at exit.
///
///     auto mongo = pipeline::mongodb::client::open("mongodb://127.0.0.1:27017/?appname=etl");
///     if (auto up = mongo->ping(); !up) log(up.error());
class client {
 public:
  /// Throws std::invalid_argument with libmongoc's reason when `uri` is not a valid
  /// `mongodb://` or `mongodb+srv://` URI, when `max_pool_size` is 0, the outage budget is
  /// negative (or `outage-budget-ms` not a number of milliseconds) or `reconnect` describes no
  /// schedule.
  [[nodiscard]] static auto open(std::string_view uri, const client_options& options = {})
      -> std::shared_ptr<client>;

  ~client();
  client(const client&) = delete;
  auto operator=(const client&) -> client& = delete;

  /// Runs `ping` on the admin database, waiting out an outage (up to `stop`): `transient`
  /// when no server answered within the outage budget.
  [[nodiscard]] auto ping(std::stop_token stop = {}) -> result<void>;
  /// Drops a database (a missing one is not an error). For tests and tools.
  [[nodiscard]] auto drop_database(std::string_view name) -> result<void>;
  /// The number of documents in a collection that match a JSON filter ("{}" for all).
  [[nodiscard]] auto count(std::string_view database, std::string_view collection, std::string_view filter_json = "{}")
      -> result<std::int64_t>;
  /// Whether `database` has a collection named `collection` (listCollections); creates
  /// nothing. For tools that must not make a store by looking at it (pipeline-admin).
  [[nodiscard]] auto has_collection(std::string_view database, std::string_view collection) -> result<bool>;
  /// The database the URI names (`mongodb://host/DB?…`); empty when it names none.
  [[nodiscard]] auto uri_database() const noexcept -> const std::string&;

 private:
  struct impl;
  explicit client(std::unique_ptr<impl> state) noexcept;
  friend struct detail::client_access;
  std::unique_ptr<impl> impl_;
};

}  // namespace pipeline::mongodb
