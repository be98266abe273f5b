#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <pipeline/result.hpp>

namespace pipeline::mongodb {

namespace detail {
struct client_access;
}

/// How a `client` connects. Each timeout applies only when the URI does not set its own
/// (`connectTimeoutMS`, `serverSelectionTimeoutMS`, `socketTimeoutMS`): the URI wins.
struct client_options {
  std::chrono::milliseconds connect_timeout{5'000};
  /// How long an operation waits for a usable server before failing `transient`; also how long
  /// a write waits while the server restarts.
  std::chrono::milliseconds server_selection_timeout{5'000};
  std::chrono::milliseconds socket_timeout{30'000};
  /// Connections in the pool, one per concurrent operation; a source holds one for its life.
  std::size_t max_pool_size{16};
  std::string app_name{"pipeline"};  ///< shown in the server's log and currentOp
};

/// A connection pool to one MongoDB deployment, shared by the sources, sinks and stores made
/// from it.
///
/// The URI carries everything libmongoc reads from a `mongodb://` URI: hosts, credentials
/// (`user:pass@`, `authSource`, `authMechanism`), TLS (`tls=true`, `tlsCAFile`,
/// `tlsCertificateKeyFile`, `tlsAllowInvalidHostnames`, …), replica set, read and write
/// concern. Credentials belong in the URI or the environment, never in code.
///
/// Contract: thread-safe (a libmongoc client pool; each operation borrows a connection and
/// returns it). Connecting is lazy: `open` checks the URI only; the first operation (or
/// `ping`) meets the server. Held by `std::shared_ptr`: every object made from it keeps it
/// alive. libmongoc is initialised once per process and cleaned up at exit.
///
///     auto mongo = pipeline::mongodb::client::open("mongodb://127.0.0.1:27017/?appname=etl");
///     if (auto up = mongo->ping(); !up) log(up.error());
class client {
 public:
  /// Throws std::invalid_argument with libmongoc's reason when `uri` is not a valid
  /// `mongodb://` or `mongodb+srv://` URI or `max_pool_size` is 0.
  [[nodiscard]] static auto open(std::string_view uri, const client_options& options = {})
      -> std::shared_ptr<client>;

  ~client();
  client(const client&) = delete;
  auto operator=(const client&) -> client& = delete;

  /// Runs `ping` on the admin database: `transient` when no server answers in time.
  [[nodiscard]] auto ping() -> result<void>;
  /// Drops a database (a missing one is not an error). For tests and tools.
  [[nodiscard]] auto drop_database(std::string_view name) -> result<void>;
  /// The number of documents in a collection that match a JSON filter ("{}" for all).
  [[nodiscard]] auto count(std::string_view database, std::string_view collection, std::string_view filter_json = "{}")
      -> result<std::int64_t>;

 private:
  struct impl;
  explicit client(std::unique_ptr<impl> state) noexcept;
  friend struct detail::client_access;
  std::unique_ptr<impl> impl_;
};

}  // namespace pipeline::mongodb
