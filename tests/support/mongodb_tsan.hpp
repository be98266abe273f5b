#pragma once
// Included once by each test binary that talks to MongoDB through libmongoc. The suppressions
// are tests/tools/mongodb.tsan.supp's, for the binaries that cannot include this (pipeline-admin).

#if defined(__SANITIZE_THREAD__)
#define PIPELINE_MONGODB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PIPELINE_MONGODB_TSAN 1
#endif
#endif
#ifdef PIPELINE_MONGODB_TSAN
// ThreadSanitizer, for the test binaries that use libmongoc (each includes this header once).
// libmongoc's pool runs a background monitor thread per server that reads the servers'
// `hello` replies under its topology mutex, and hands those descriptions to the calling
// threads through reference counts kept with libbson's own atomics (mongoc_shared_ptr). The
// Debian libraries are not instrumented, so TSan cannot see those atomics and reports the
// caller's later bson_destroy/free of that memory as a race with the monitor's read, even in
// single-threaded tests (every report has the monitor's read inside libbson). Our code shares
// no bson_t between threads: every one is local to a call. Races with a frame in our own
// code and none in these libraries are still reported.
extern "C" const char* __tsan_default_suppressions() {  // NOLINT: the name TSan looks up
  return "race:libbson-1.0.so.0\nrace:libmongoc-1.0.so.0\n";
}
#endif
