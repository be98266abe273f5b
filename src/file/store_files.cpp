#include "store_files.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstdio>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

namespace pipeline::file::detail {
namespace {

constexpr std::size_t max_escaped_name = 200;

auto write_then_rename(const std::filesystem::path& tmp, const std::filesystem::path& path, const std::string& content)
    -> result<void> {
  auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (!fd) return std::move(fd).error();
  if (auto written = write_at(*fd, content, 0, tmp); !written) return written;
  if (auto synced = sync_file(*fd, tmp); !synced) return synced;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return errno_error(errno, fmt::format("rename '{}' to '{}'", tmp.string(), path.string()));
  }
  return ok();
}

}  // namespace

auto escape_file_name(std::string_view name, std::string_view what) -> result<std::string> {
  std::string escaped;
  for (const char c : name) {
    const bool safe =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (safe) escaped += c;
    else fmt::format_to(std::back_inserter(escaped), "%{:02X}", static_cast<unsigned char>(c));
  }
  if (escaped.size() > max_escaped_name) {
    return invalid_input_error(fmt::format("{} is {} bytes once escaped for a file name, more than {}", what,
                                           escaped.size(), max_escaped_name));
  }
  return escaped;
}

auto lock_exclusively(const std::filesystem::path& path) -> result<unique_fd> {
  auto fd = open_file(path, O_RDWR | O_CREAT);
  if (!fd) return std::move(fd).error();
  while (::flock(fd->get(), LOCK_EX) != 0) {
    if (errno != EINTR) return errno_error(errno, fmt::format("lock '{}'", path.string()));
  }
  return std::move(*fd);
}

auto replace_file(const std::filesystem::path& path, const std::string& content) -> result<void> {
  auto tmp = path;
  tmp += ".tmp";
  if (auto replaced = write_then_rename(tmp, path, content); !replaced) {
    std::error_code ignored;  // the failure that matters is the one returned
    std::filesystem::remove(tmp, ignored);
    return replaced;
  }
  return sync_directory(path.parent_path());
}

auto make_directories(const std::filesystem::path& dir) -> result<void> {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return errno_error(ec.value(), fmt::format("create directory '{}'", dir.string()));
  return ok();
}

}  // namespace pipeline::file::detail
