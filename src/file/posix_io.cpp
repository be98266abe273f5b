#include "posix_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace pipeline::file::detail {
namespace {

auto path_error(int err, std::string_view call, const std::filesystem::path& path) -> error {
  return errno_error(err, fmt::format("{} '{}'", call, path.string()));
}

auto directory_of(const std::filesystem::path& path) -> std::filesystem::path {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path{"."};
}

}  // namespace

auto errno_error(int err, std::string_view what) -> error {
  const bool transient = err == EINTR || err == EAGAIN || err == EIO || err == ENOSPC || err == EDQUOT ||
                         err == EMFILE || err == ENFILE || err == EBUSY;
  return error{transient ? error_kind::transient : error_kind::permanent,
               fmt::format("{}: {}", what, std::strerror(err)), err, "errno"};
}

void unique_fd::close() noexcept {
  // close(2) is not retried on EINTR: on Linux the descriptor is released either way.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

auto open_file(const std::filesystem::path& path, int flags, mode_t mode) -> result<unique_fd> {
  for (;;) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return unique_fd{fd};
    if (errno != EINTR) return path_error(errno, "open", path);
  }
}

auto read_at(const unique_fd& fd, char* into, std::size_t size, std::uint64_t offset,
             const std::filesystem::path& path) -> result<std::size_t> {
  for (;;) {
    const auto n = ::pread(fd.get(), into, size, static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return path_error(errno, "read", path);
  }
}

auto write_at(const unique_fd& fd, std::string_view data, std::uint64_t offset, const std::filesystem::path& path)
    -> result<void> {
  while (!data.empty()) {
    const auto n = ::pwrite(fd.get(), data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return path_error(errno, "write", path);
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return ok();
}

auto file_size(const unique_fd& fd, const std::filesystem::path& path) -> result<std::uint64_t> {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return path_error(errno, "stat", path);
  return static_cast<std::uint64_t>(st.st_size);
}

auto sync_file(const unique_fd& fd, const std::filesystem::path& path) -> result<void> {
  if (::fsync(fd.get()) != 0) return path_error(errno, "fsync", path);
  return ok();
}

auto sync_directory(const std::filesystem::path& dir) -> result<void> {
  auto fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return std::move(fd).error();
  return sync_file(*fd, dir);
}

auto read_whole_file(const std::filesystem::path& path) -> result<std::optional<std::string>> {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) {
    if (fd.error().native_code == ENOENT) return std::optional<std::string>{};
    return std::move(fd).error();
  }
  std::string content;
  char chunk[4096];
  for (;;) {
    auto n = read_at(*fd, chunk, sizeof chunk, content.size(), path);
    if (!n) return std::move(n).error();
    if (*n == 0) return std::optional<std::string>{std::move(content)};
    content.append(chunk, *n);
  }
}

auto append_file::open(std::filesystem::path path, std::optional<std::uint64_t> truncate_to) -> result<append_file> {
  auto fd = open_file(path, O_RDWR | O_CREAT);
  if (!fd) return std::move(fd).error();
  auto size = file_size(*fd, path);
  if (!size) return std::move(size).error();
  if (truncate_to) {
    if (*size < *truncate_to) {
      return permanent_error(fmt::format("'{}' is {} bytes, shorter than the offset {} to resume at: it was "
                                         "truncated or replaced since that offset was committed",
                                         path.string(), *size, *truncate_to));
    }
    if (::ftruncate(fd->get(), static_cast<off_t>(*truncate_to)) != 0) return path_error(errno, "truncate", path);
    if (auto synced = sync_file(*fd, path); !synced) return std::move(synced).error();
    *size = *truncate_to;
  }
  // A last line without its '\n' was torn by a crash: end it, so that it stays one bad line
  // and the next append starts a line of its own.
  if (*size > 0) {
    char last = '\n';
    auto n = read_at(*fd, &last, 1, *size - 1, path);
    if (!n) return std::move(n).error();
    if (last != '\n') {
      if (auto ended = write_at(*fd, "\n", *size, path); !ended) return std::move(ended).error();
      if (auto synced = sync_file(*fd, path); !synced) return std::move(synced).error();
      ++*size;
    }
  }
  // The file may be new: its name is durable only once the directory is synced.
  if (auto synced = sync_directory(directory_of(path)); !synced) return std::move(synced).error();
  return append_file{std::move(path), std::move(*fd), *size};
}

auto append_file::replace(std::filesystem::path path, std::string_view content) -> result<append_file> {
  auto tmp = path;
  tmp += ".tmp";
  auto fd = open_file(tmp, O_RDWR | O_CREAT | O_TRUNC);
  if (!fd) return std::move(fd).error();
  auto done = write_at(*fd, content, 0, tmp);
  if (done) done = sync_file(*fd, tmp);
  if (done && std::rename(tmp.c_str(), path.c_str()) != 0) {
    done = errno_error(errno, fmt::format("rename '{}' to '{}'", tmp.string(), path.string()));
  }
  if (!done) {
    [[maybe_unused]] const int removed = ::unlink(tmp.c_str());  // the failure that matters is `done`
    return std::move(done).error();
  }
  if (auto synced = sync_directory(directory_of(path)); !synced) return std::move(synced).error();
  return append_file{std::move(path), std::move(*fd), content.size()};
}

void append_file::rewind(std::uint64_t size) noexcept {
  if (size >= size_) return;
  [[maybe_unused]] const int cut = ::ftruncate(fd_.get(), static_cast<off_t>(size));
  size_ = size;
}

auto append_file::append(std::string_view data, durability d) -> result<void> {
  auto done = write_at(fd_, data, size_, path_);
  if (done && d == durability::synced) done = sync();
  if (!done) {
    // Best effort: if even this fails, the next append overwrites the torn tail anyway,
    // since appends go to size_, not to the end of the file.
    [[maybe_unused]] const int cut = ::ftruncate(fd_.get(), static_cast<off_t>(size_));
    return done;
  }
  size_ += data.size();
  return ok();
}

auto append_file::sync() -> result<void> { return sync_file(fd_, path_); }

auto append_file::replaced() const -> result<bool> {
  struct stat open_file {};
  struct stat named {};
  if (::fstat(fd_.get(), &open_file) != 0) return errno_error(errno, fmt::format("fstat '{}'", path_.string()));
  if (::stat(path_.c_str(), &named) != 0) {
    if (errno == ENOENT) return true;
    return errno_error(errno, fmt::format("stat '{}'", path_.string()));
  }
  return open_file.st_dev != named.st_dev || open_file.st_ino != named.st_ino;
}

}  // namespace pipeline::file::detail
