#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/console/store.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/result.hpp>

namespace pipeline::admin {

/// One store the console shows, under `name` (its URI without credentials, say).
struct console_store {
  std::string name;
  std::unique_ptr<store> source;
  /// Redis streams of this store whose depth the queue page shows, and onto which the DLQ
  /// page can requeue letters (docs/console.md, "Replay").
  std::vector<std::string> queues;
};

/// Who may do what, and what the pages show. A plain struct.
struct console_options {
  /// The bearer token every change (replay, purge, checkpoint reset) needs, sent as
  /// `Authorization: Bearer <token>`. Empty: every change is refused (403).
  std::string token;
  /// Reads (pages' data, the JSON API's GETs, /metrics) without the token too.
  bool open_reads = false;
  /// Served as /metrics in Prometheus text; nullptr: /metrics is 404. Not owned: it must
  /// outlive the console.
  const metrics_registry* metrics = nullptr;
  /// Payloads longer than this are cut in lists (`truncated: true`); /api/letter and
  /// /api/letter/payload give the whole.
  std::size_t payload_limit = 4096;
  /// How many records a job has in all, when the service knows it (nullopt: unknown): with it
  /// the runs page shows done/total and an ETA.
  std::function<std::optional<std::uint64_t>(std::string_view job)> total_of;
  /// Called once the console listens, with its port (useful with port 0: any free one).
  std::function<void(std::uint16_t port)> on_listening;
};

/// The operator's web console (docs/console.md): pages for runs with live progress, the DLQ
/// grouped by reason with replay and purge, checkpoints and queue depth, over the JSON API
/// they use, plus /metrics. Served by cpp-httplib, which stays out of this header.
///
/// Thread-safety: `listen` serves requests on a pool of threads; each store is used by one
/// request at a time (a lock per store). Owns its stores; `listen` blocks until `stop` is
/// requested, then closes the socket and its threads before returning. One `listen` at a time.
///
///     pipeline::admin::console web{std::move(stores), {.token = token}};
///     auto served = web.listen(8081, stop);   // http://127.0.0.1:8081/
class console {
 public:
  /// Throws std::invalid_argument without stores, or with two of the same name.
  console(std::vector<console_store> stores, console_options options);
  ~console();
  console(const console&) = delete;
  auto operator=(const console&) -> console& = delete;

  /// Serves on `host:port` until `stop` is requested. An error when it cannot bind.
  [[nodiscard]] auto listen(std::uint16_t port, std::stop_token stop, std::string_view host = "127.0.0.1")
      -> result<void>;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace pipeline::admin
