#pragma once
// Runs a shell command for a test's setup (ip, redis-cli): its output becomes the error.

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace pipeline::test {

// Runs `command` through the shell; throws with its output when it fails.
inline void run_command(const std::string& command) {
  std::FILE* out = ::popen((command + " 2>&1").c_str(), "r");
  if (out == nullptr) throw std::runtime_error(fmt::format("cannot run '{}'", command));
  std::string text;
  std::array<char, 256> chunk{};
  while (std::fgets(chunk.data(), static_cast<int>(chunk.size()), out) != nullptr) text += chunk.data();
  if (const int status = ::pclose(out); status != 0) {
    throw std::runtime_error(fmt::format("'{}' failed (status {}): {}", command, status, text));
  }
}

}  // namespace pipeline::test
