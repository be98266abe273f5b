#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail {

/// What an adapter implements to be a `basic_dead_letter_store`: the operations of
/// `pipeline::dead_letter_store`, with the contracts `basic_dead_letter_store` states.
/// Implementations are thread-safe and are shared by the copies of their front end.
class dead_letter_backend {
 public:
  virtual ~dead_letter_backend() = default;
  dead_letter_backend(const dead_letter_backend&) = delete;
  auto operator=(const dead_letter_backend&) -> dead_letter_backend& = delete;

  [[nodiscard]] virtual auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> = 0;
  [[nodiscard]] virtual auto read(const dead_letter_filter& filter, const std::optional<std::string>& after_id,
                                  std::size_t limit, std::stop_token stop)
      -> result<std::vector<stored_dead_letter>> = 0;
  [[nodiscard]] virtual auto resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void> = 0;
  [[nodiscard]] virtual auto record_failure(std::span<const failed_replay> failures, std::stop_token stop)
      -> result<void> = 0;
  [[nodiscard]] virtual auto purge(const dead_letter_filter& filter, std::stop_token stop)
      -> result<std::size_t> = 0;

 protected:
  dead_letter_backend() = default;
};

}  // namespace pipeline::detail

namespace pipeline {

/// A dead-letter store of any adapter: the front end every adapter's DLQ derives from
/// (`sqlite`/`mysql`/`postgres::dead_letter_table`, `mongodb::dead_letter_collection`,
/// `redis::dead_letter_stream`, `file::dead_letter_file`), so one type holds any of them
/// without templates. Each adapter's class says how it does each operation on its server.
///
/// Thread-safe (every adapter's backend is). Copies share one backend, that is one store;
/// the backend lives as long as its last copy. A moved-from store may only be destroyed or
/// assigned. Blocking.
///
///     pipeline::basic_dead_letter_store dlq = pipeline::redis::dead_letter_stream{client};
///     auto page = dlq.read({.job = "listings"}, std::nullopt, 500, stop);
class basic_dead_letter_store {
 public:
  /// Stores every one of `letters` or fails (`pipeline::dead_letter_sink`); a letter stored
  /// already (written again after a crash) is not stored twice. `stopped`, and nothing
  /// written, when a stop was requested before.
  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
    return backend_->write(letters, std::move(stop));
  }

  /// Up to `limit` pending letters that match `filter`, with an id above `after_id` (all when
  /// nullopt), by increasing id. An id the store cannot parse is an error.
  [[nodiscard]] auto read(const dead_letter_filter& filter, const std::optional<std::string>& after_id,
                          std::size_t limit, std::stop_token stop) -> result<std::vector<stored_dead_letter>> {
    return backend_->read(filter, after_id, limit, std::move(stop));
  }

  /// Those letters are no longer pending: no later `read` returns them. Unknown ids are
  /// ignored; one the store cannot parse is an error.
  [[nodiscard]] auto resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void> {
    return backend_->resolve(ids, std::move(stop));
  }

  /// Each letter's attempts grow by one and its reason is replaced; it stays pending.
  [[nodiscard]] auto record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void> {
    return backend_->record_failure(failures, std::move(stop));
  }

  /// Removes every letter that matches (resolved ones too, in a store that keeps them) and
  /// says how many it removed.
  [[nodiscard]] auto purge(const dead_letter_filter& filter, std::stop_token stop) -> result<std::size_t> {
    return backend_->purge(filter, std::move(stop));
  }

 protected:
  explicit basic_dead_letter_store(std::shared_ptr<detail::dead_letter_backend> backend) noexcept
      : backend_(std::move(backend)) {}

  /// The adapter's backend, for its own members (`static_cast` to its concrete type).
  [[nodiscard]] auto backend() const noexcept -> detail::dead_letter_backend& { return *backend_; }

 private:
  std::shared_ptr<detail::dead_letter_backend> backend_;
};

static_assert(dead_letter_store<basic_dead_letter_store>);

}  // namespace pipeline
