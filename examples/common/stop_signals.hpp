#pragma once
// Shared by the examples that stop cleanly on SIGINT/SIGTERM. Header-only.

#include <pthread.h>
#include <signal.h>

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

}  // namespace examples
