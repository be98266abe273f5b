#include "handles.hpp"

namespace pipeline::mongodb::detail {

namespace {
// libmongoc's own handler prints every level, DEBUG included, to stdout/stderr: pass on only
// warnings and worse (errors reach the caller as results anyway).
void quiet_log(mongoc_log_level_t level, const char* domain, const char* message, void* data) {
  if (level <= MONGOC_LOG_LEVEL_WARNING) mongoc_log_default_handler(level, domain, message, data);
}

struct library {
  library() noexcept {
    mongoc_log_set_handler(quiet_log, nullptr);
    mongoc_init();
  }
  ~library() { mongoc_cleanup(); }
  library(const library&) = delete;
  auto operator=(const library&) -> library& = delete;
};
}  // namespace

void ensure_initialised() {
  // A function-local static: thread-safe initialisation, and destroyed after every object
  // whose construction (a client's) completed after it, so no client outlives the cleanup
  // unless it is itself a static made before the first client.
  static const library instance;
}

}  // namespace pipeline::mongodb::detail
