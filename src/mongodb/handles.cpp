#include "handles.hpp"

namespace pipeline::mongodb::detail {

namespace {
struct library {
  library() noexcept { mongoc_init(); }
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
