#pragma once

// One job, one runner (docs/runner.md, "One runner per job"): before anything is read, a run
// takes a lease kept in the checkpoint store itself, under `<key>#lease`, so that a second run
// of the same checkpoint key fails with `conflict` before it writes, whether or not a job log
// is configured. The lease is taken and renewed with the store's version check (a
// compare-and-set), renewed every heartbeat, and given back at the end. A holder whose lease
// ran out, or whose process on this host is gone (`kill -9`), is taken over at once; a run
// that finds its lease taken over (it was paused past it, say) fails with `conflict` and
// writes no further batch.
// Thread-safe: the heartbeat thread, the workers and the run's own thread call it at once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include <pipeline/detail/run_stages.hpp>

#include "run_context.hpp"

namespace pipeline::detail {

class run_lease {
 public:
  run_lease(run_context& run, run_stages& stages);
  run_lease(const run_lease&) = delete;
  auto operator=(const run_lease&) -> run_lease& = delete;
  ~run_lease();

  // Takes the lease. False (the run failed with the reason) when another run holds it.
  auto claim() -> bool;
  // Renews the lease; a lease taken over fails the run.
  void renew();
  // Before a batch is written: renews now if the lease may have run out unrenewed (the process
  // was paused, or renewals failed), so a run that lost its job writes nothing more. False
  // when the lease is lost (the run has failed).
  auto confirm() -> bool;
  // Whether another run took the lease over: then this run must not save its checkpoint
  // (the job is the other run's now).
  [[nodiscard]] auto lost() const noexcept -> bool { return lost_.load(); }
  // Gives the lease back (the next run need not wait for it to run out).
  void release();

 private:
  [[nodiscard]] auto key() const -> std::string;
  void renew_locked();

  run_context& run_;
  run_stages& stages_;
  const std::uint64_t token_;  // this run, among the runs of this process
  std::atomic<std::int64_t> lease_until_ms_{0};  // 0: not held
  std::atomic<bool> lost_{false};  // taken over by another run
  std::mutex mutex_;  // guards version_ and serialises calls to the store
  std::uint64_t version_ = 0;
};

}  // namespace pipeline::detail
