#pragma once

// The POSIX calls the file adapters make, each turned into a result<> with its errno mapped
// once (errno_error), and the file descriptor owned by one RAII type.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <pipeline/error.hpp>
#include <pipeline/result.hpp>

namespace pipeline::file::detail {

/// `what: strerror(err)` with backend "errno" and the errno as native code. EINTR, EAGAIN,
/// EIO, ENOSPC, EDQUOT, EMFILE, ENFILE and EBUSY may pass if tried again (transient); every
/// other errno is permanent.
[[nodiscard]] auto errno_error(int err, std::string_view what) -> error;

/// Owns a file descriptor and closes it when destroyed. Move-only.
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  auto operator=(unique_fd&& other) noexcept -> unique_fd& {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  auto operator=(const unique_fd&) -> unique_fd& = delete;
  ~unique_fd() { close(); }

  [[nodiscard]] auto get() const noexcept -> int { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  void close() noexcept;

  int fd_ = -1;
};

/// open(2), retried on EINTR; O_CLOEXEC is always added.
[[nodiscard]] auto open_file(const std::filesystem::path& path, int flags, mode_t mode = 0644) -> result<unique_fd>;

/// pread(2) of at most `size` bytes at `offset`, retried on EINTR; 0 at the end of the file.
[[nodiscard]] auto read_at(const unique_fd& fd, char* into, std::size_t size, std::uint64_t offset,
                           const std::filesystem::path& path) -> result<std::size_t>;

/// Writes all of `data` at `offset` (pwrite(2) until done, retried on EINTR).
[[nodiscard]] auto write_at(const unique_fd& fd, std::string_view data, std::uint64_t offset,
                            const std::filesystem::path& path) -> result<void>;

/// The size of the open file (fstat(2)).
[[nodiscard]] auto file_size(const unique_fd& fd, const std::filesystem::path& path) -> result<std::uint64_t>;

/// fsync(2).
[[nodiscard]] auto sync_file(const unique_fd& fd, const std::filesystem::path& path) -> result<void>;

/// fsync(2) of a directory, so that the names created or renamed in it are durable.
[[nodiscard]] auto sync_directory(const std::filesystem::path& dir) -> result<void>;

/// The whole content of a file, or nullopt when it does not exist.
[[nodiscard]] auto read_whole_file(const std::filesystem::path& path) -> result<std::optional<std::string>>;

/// A file that is only ever appended to by this process, at a size it keeps itself: an append
/// that fails is cut off again (ftruncate), so that the file never ends in half a write.
/// Not thread-safe; its owners lock.
class append_file {
 public:
  /// Opens or creates `path` and syncs its directory. With `truncate_to`, the file is cut back
  /// to that size and synced first; a file shorter than it is a permanent error (it was
  /// truncated or replaced behind our back). A file that does not end with '\n' (a line torn
  /// by a crash) gets one, so that appends start on a line of their own.
  [[nodiscard]] static auto open(std::filesystem::path path, std::optional<std::uint64_t> truncate_to)
      -> result<append_file>;

  /// Writes `content` to `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the
  /// directory: a crash leaves the old content or the new, never a mix. Returns the new file,
  /// open for appending (its descriptor is the one written). The temporary file is removed when
  /// this fails. Callers hold a lock, so that two never share the temporary file.
  [[nodiscard]] static auto replace(std::filesystem::path path, std::string_view content) -> result<append_file>;

  enum class durability : bool { written, synced };

  /// Writes `data` at the end, and fsyncs with `synced`; on failure the file is cut back to
  /// its size before the call.
  [[nodiscard]] auto append(std::string_view data, durability d) -> result<void>;
  /// Forgets what was appended after `size` (an append whose companion write failed): cut off
  /// at once where ftruncate(2) can, and overwritten by the next append in any case.
  void rewind(std::uint64_t size) noexcept;
  /// Makes every append so far durable.
  [[nodiscard]] auto sync() -> result<void>;
  /// Whether the path no longer names the file open here: another process renamed a new file
  /// over it (or removed it).
  [[nodiscard]] auto replaced() const -> result<bool>;
  /// The bytes appended so far (and found at open).
  [[nodiscard]] auto size() const noexcept -> std::uint64_t { return size_; }

 private:
  append_file(std::filesystem::path path, unique_fd fd, std::uint64_t size)
      : path_(std::move(path)), fd_(std::move(fd)), size_(size) {}

  std::filesystem::path path_;
  unique_fd fd_;
  std::uint64_t size_;
};

}  // namespace pipeline::file::detail
