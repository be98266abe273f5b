#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include <pipeline/result.hpp>

#include "posix_io.hpp"

namespace pipeline::file::detail {

/// Bytes read by offset: a file, or memory (tests and fuzzers read the same code paths
/// without touching the disk). Not thread-safe.
class byte_stream {
 public:
  byte_stream() = default;
  byte_stream(const byte_stream&) = delete;
  auto operator=(const byte_stream&) -> byte_stream& = delete;
  virtual ~byte_stream() = default;

  /// Up to `into.size()` bytes from `offset`; 0 at the end.
  [[nodiscard]] virtual auto read_at(std::uint64_t offset, std::span<char> into) -> result<std::size_t> = 0;
  /// The total size now.
  [[nodiscard]] virtual auto size() -> result<std::uint64_t> = 0;
  /// What error messages call it: the path, or "<memory>".
  [[nodiscard]] virtual auto name() const -> std::string = 0;
};

/// A file, opened on the first read, so that a missing file is an error of that read (which
/// the runner may retry), not of a constructor.
class file_stream final : public byte_stream {
 public:
  explicit file_stream(std::filesystem::path path) : path_(std::move(path)) {}

  [[nodiscard]] auto read_at(std::uint64_t offset, std::span<char> into) -> result<std::size_t> override;
  [[nodiscard]] auto size() -> result<std::uint64_t> override;
  [[nodiscard]] auto name() const -> std::string override { return path_.string(); }

 private:
  auto ensure_open() -> result<void>;

  std::filesystem::path path_;
  unique_fd fd_;
};

/// Bytes in memory, not owned: they must outlive the stream.
class memory_stream final : public byte_stream {
 public:
  explicit memory_stream(std::string_view bytes) : bytes_(bytes) {}

  [[nodiscard]] auto read_at(std::uint64_t offset, std::span<char> into) -> result<std::size_t> override;
  [[nodiscard]] auto size() -> result<std::uint64_t> override { return bytes_.size(); }
  [[nodiscard]] auto name() const -> std::string override { return "<memory>"; }

 private:
  std::string_view bytes_;
};

}  // namespace pipeline::file::detail
