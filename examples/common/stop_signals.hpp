#pragma once
// Shared by the examples that stop cleanly on SIGINT/SIGTERM. Header-only.

#include <pthread.h>
#include <signal.h>

#include <stop_token>
#include <thread>
#include <time.h>

namespace examples {

/// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts after,
/// and returns the set, for sigwait/sigtimedwait to take them. Call it before any thread starts.
inline auto block_stop_signals() -> sigset_t {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

/// Blocks SIGINT and SIGTERM (construct it before any thread starts) and requests a stop when
/// one arrives, so that a run or a schedule given `token()` ends cleanly. The watcher thread
/// looks every 100 ms, so that it ends with the object.
class stop_on_signals {
 public:
  stop_on_signals()
      : signals_(block_stop_signals()), watcher_{[this](std::stop_token done) {
          const timespec poll{0, 100'000'000};
          while (!done.stop_requested()) {
            if (sigtimedwait(&signals_, nullptr, &poll) > 0) {
              stop_.request_stop();
              return;
            }
          }
        }} {}
  stop_on_signals(const stop_on_signals&) = delete;
  auto operator=(const stop_on_signals&) -> stop_on_signals& = delete;

  [[nodiscard]] auto token() const noexcept -> std::stop_token { return stop_.get_token(); }
  [[nodiscard]] auto stop_requested() const noexcept -> bool { return stop_.stop_requested(); }

 private:
  sigset_t signals_;
  std::stop_source stop_;
  std::jthread watcher_;  // last: started once the rest is made, joined first
};

}  // namespace examples
