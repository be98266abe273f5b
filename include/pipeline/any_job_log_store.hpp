#pragma once

#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <pipeline/detail/erased_model.hpp>
#include <pipeline/job_run.hpp>

namespace pipeline {

/// An owning, type-erased job-log store, for choosing the store at run time (and for the
/// runner's options, which are not templates).
///
/// Holds any `job_log_store`; as thread-safe as the store it holds (all of ours are).
/// Move-only; a moved-from wrapper may only be destroyed or assigned.
class any_job_log_store {
 public:
  template <class J>
    requires(!std::same_as<std::remove_cvref_t<J>, any_job_log_store>) && job_log_store<detail::unwrap_ref_t<J>>
  any_job_log_store(J&& impl)  // NOLINT(google-explicit-constructor)
      : self_(std::make_unique<model<std::remove_cvref_t<J>>>(std::in_place, std::forward<J>(impl))) {}

  template <class J, class... Args>
    requires job_log_store<J>
  explicit any_job_log_store(std::in_place_type_t<J>, Args&&... args)
      : self_(std::make_unique<model<J>>(std::in_place, std::forward<Args>(args)...)) {}

  [[nodiscard]] auto create(const job_run& run) -> result<std::uint64_t> { return self_->create(run); }
  [[nodiscard]] auto update(const job_run& run) -> result<void> { return self_->update(run); }
  [[nodiscard]] auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> {
    return self_->runs(job, limit);
  }

 private:
  struct interface {
    virtual ~interface() = default;
    virtual auto create(const job_run&) -> result<std::uint64_t> = 0;
    virtual auto update(const job_run&) -> result<void> = 0;
    virtual auto runs(std::string_view, std::size_t) -> result<std::vector<job_run>> = 0;
  };
  template <class J>
  struct model final : detail::erased_model<interface, J> {
    using detail::erased_model<interface, J>::erased_model;
    auto create(const job_run& run) -> result<std::uint64_t> override { return this->target().create(run); }
    auto update(const job_run& run) -> result<void> override { return this->target().update(run); }
    auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> override {
      return this->target().runs(job, limit);
    }
  };

  std::unique_ptr<interface> self_;
};

}  // namespace pipeline
