#pragma once

#include <memory>
#include <cstdint>
#include <span>
#include <string_view>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

#include <pipeline/detail/erased_model.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline {

/// An owning, type-erased sink of `T`, for choosing a sink at run time.
///
/// Holds any `sink` whose value_type is `T` (by value, in place, or by
/// `std::reference_wrapper` when the caller keeps it). `flush` forwards to a
/// `flushable_sink` and is a no-op otherwise. It always models `per_record_sink`:
/// `write_each` forwards to a `per_record_sink`, and for any other sink is `write` (nothing
/// refused, or an error for the whole call); `answers_per_record()` says which, at run time,
/// so that a caller picks `write_each` only when it finds the bad records (see
/// `pipeline::answers_per_record`). It always models `transactional_sink` too: the ledger
/// calls forward to a `transactional_sink`, and `is_transactional()` says at run time whether
/// the sink held is one (the runner writes it in exactly-once mode only then; the calls fail
/// with `internal` otherwise). As thread-safe as the sink it holds.
/// Move-only; a moved-from any_sink may only be destroyed or assigned.
///
///     pipeline::any_sink<row> out = use_mysql ? pipeline::any_sink<row>{mysql_sink{…}}
///                                             : pipeline::any_sink<row>{std::ref(test_sink)};
template <class T>
class any_sink {
 public:
  using value_type = T;

  template <class K>
    requires(!std::same_as<std::remove_cvref_t<K>, any_sink>) && sink<detail::unwrap_ref_t<K>> &&
            std::same_as<sink_value_t<detail::unwrap_ref_t<K>>, T>
  any_sink(K&& impl)  // NOLINT(google-explicit-constructor): a sink converts to any_sink
      : self_(std::make_unique<model<std::remove_cvref_t<K>>>(std::in_place, std::forward<K>(impl))) {}

  template <class K, class... Args>
    requires sink<K> && std::same_as<sink_value_t<K>, T>
  explicit any_sink(std::in_place_type_t<K>, Args&&... args)
      : self_(std::make_unique<model<K>>(std::in_place, std::forward<Args>(args)...)) {}

  [[nodiscard]] auto write(std::span<const T> records, std::stop_token stop) -> result<void> {
    return self_->write(records, std::move(stop));
  }
  [[nodiscard]] auto write_each(std::span<const T> records, std::stop_token stop)
      -> result<std::vector<rejected_record>> {
    return self_->write_each(records, std::move(stop));
  }
  /// True when the sink held is a `per_record_sink` that itself answers per record.
  [[nodiscard]] auto answers_per_record() const noexcept -> bool { return self_->answers_per_record(); }
  [[nodiscard]] auto flush(std::stop_token stop) -> result<void> { return self_->flush(std::move(stop)); }
  /// True when the sink held is a `transactional_sink` (see `pipeline::is_transactional`).
  [[nodiscard]] auto is_transactional() const noexcept -> bool { return self_->is_transactional(); }
  [[nodiscard]] auto write_committed(std::span<const T> records, const committed_batch& entry, std::stop_token stop)
      -> result<void> {
    return self_->write_committed(records, entry, std::move(stop));
  }
  [[nodiscard]] auto committed_batches(std::string_view job, std::stop_token stop)
      -> result<std::vector<committed_batch>> {
    return self_->committed_batches(job, std::move(stop));
  }
  [[nodiscard]] auto forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence,
                                    std::stop_token stop) -> result<void> {
    return self_->forget_batches(job, run, sequence, std::move(stop));
  }

 private:
  struct interface {
    virtual ~interface() = default;
    virtual auto write(std::span<const T>, std::stop_token) -> result<void> = 0;
    virtual auto write_each(std::span<const T>, std::stop_token) -> result<std::vector<rejected_record>> = 0;
    [[nodiscard]] virtual auto answers_per_record() const noexcept -> bool = 0;
    virtual auto flush(std::stop_token) -> result<void> = 0;
    [[nodiscard]] virtual auto is_transactional() const noexcept -> bool = 0;
    virtual auto write_committed(std::span<const T>, const committed_batch&, std::stop_token) -> result<void> = 0;
    virtual auto committed_batches(std::string_view, std::stop_token) -> result<std::vector<committed_batch>> = 0;
    virtual auto forget_batches(std::string_view, std::uint64_t, std::uint64_t, std::stop_token) -> result<void> = 0;
  };
  template <class K>
  struct model final : detail::erased_model<interface, K> {
    using detail::erased_model<interface, K>::erased_model;
    auto write(std::span<const T> records, std::stop_token stop) -> result<void> override {
      return this->target().write(records, std::move(stop));
    }
    auto write_each(std::span<const T> records, std::stop_token stop) -> result<std::vector<rejected_record>> override {
      if constexpr (per_record_sink<detail::unwrap_ref_t<K>>) {
        return this->target().write_each(records, std::move(stop));
      } else {
        if (auto written = this->target().write(records, std::move(stop)); !written) return std::move(written).error();
        return std::vector<rejected_record>{};
      }
    }
    [[nodiscard]] auto answers_per_record() const noexcept -> bool override {
      return pipeline::answers_per_record(this->target());
    }
    auto flush(std::stop_token stop) -> result<void> override {
      if constexpr (flushable_sink<detail::unwrap_ref_t<K>>) return this->target().flush(std::move(stop));
      else return ok();
    }
    [[nodiscard]] auto is_transactional() const noexcept -> bool override {
      return pipeline::is_transactional(this->target());
    }
    auto write_committed(std::span<const T> records, const committed_batch& entry, std::stop_token stop)
        -> result<void> override {
      if constexpr (transactional_sink<detail::unwrap_ref_t<K>>) {
        return this->target().write_committed(records, entry, std::move(stop));
      } else {
        return internal_error("any_sink: the sink held keeps no batch ledger");
      }
    }
    auto committed_batches(std::string_view job, std::stop_token stop) -> result<std::vector<committed_batch>> override {
      if constexpr (transactional_sink<detail::unwrap_ref_t<K>>) {
        return this->target().committed_batches(job, std::move(stop));
      } else {
        return internal_error("any_sink: the sink held keeps no batch ledger");
      }
    }
    auto forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
        -> result<void> override {
      if constexpr (transactional_sink<detail::unwrap_ref_t<K>>) {
        return this->target().forget_batches(job, run, sequence, std::move(stop));
      } else {
        return internal_error("any_sink: the sink held keeps no batch ledger");
      }
    }
  };

  std::unique_ptr<interface> self_;
};

}  // namespace pipeline
