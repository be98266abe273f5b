#pragma once
// Where the integration tests find their servers. scripts/services.sh starts them and sets
// these variables; a test that needs one and finds it unset fails with the reason, never skips.

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace pipeline::test {

// The value of <variable> (e.g. "PIPELINE_REDIS_TEST_URI"); throws, failing the test, when unset.
inline std::string service_uri(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(fmt::format(
        "{} is not set: run the integration tests under scripts/services.sh, which starts the "
        "servers (scripts/install-deps.sh servers installs them)",
        variable));
  }
  return value;
}

// A name no other test, test process or earlier run shares (the servers are shared by every
// preset of a test run): <prefix>_<test name>_<pid>_<n>, with only [A-Za-z0-9_].
inline std::string unique_name(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::string test = "none";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    test = info->name();
  }
  std::string name = fmt::format("{}_{}_{}_{}", prefix, test, ::getpid(), counter++);
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!keep) c = '_';
  }
  return name;
}

}  // namespace pipeline::test
