#include "store_files.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

namespace pipeline::file::detail {
namespace {

constexpr std::size_t max_escaped_name = 200;

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

auto unescape_file_name(std::string_view file_name) -> std::optional<std::string> {
  std::string name;
  for (std::size_t i = 0; i < file_name.size(); ++i) {
    if (file_name[i] != '%') {
      name += file_name[i];
      continue;
    }
    unsigned value = 0;
    const auto* digits = file_name.data() + i + 1;
    if (i + 3 > file_name.size() ||
        std::from_chars(digits, digits + 2, value, 16).ptr != digits + 2) {
      return std::nullopt;
    }
    name += static_cast<char>(value);
    i += 2;
  }
  // Only the one spelling escape_file_name writes (upper-case hex, safe bytes as they are).
  auto again = escape_file_name(name, "name");
  if (!again || *again != file_name) return std::nullopt;
  return name;
}

auto escaped_names(const std::filesystem::path& dir, entry_type type, std::string_view suffix)
    -> result<std::vector<std::string>> {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    const bool wanted = type == entry_type::directory ? it->is_directory(type_ec) : it->is_regular_file(type_ec);
    const auto file_name = it->path().filename().string();
    if (!wanted || !file_name.ends_with(suffix)) continue;
    auto name = unescape_file_name(std::string_view(file_name).substr(0, file_name.size() - suffix.size()));
    if (name && !name->empty()) names.push_back(std::move(*name));
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return errno_error(ec.value(), fmt::format("list '{}'", dir.string()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

auto lock_exclusively(const std::filesystem::path& path, lock_wait wait) -> result<unique_fd> {
  auto fd = open_file(path, O_RDWR | O_CREAT);
  if (!fd) return std::move(fd).error();
  const int how = wait == lock_wait::fail ? LOCK_EX | LOCK_NB : LOCK_EX;
  while (::flock(fd->get(), how) != 0) {
    if (errno == EWOULDBLOCK && wait == lock_wait::fail) {
      return conflict_error(fmt::format("'{}' is locked: another open sink (in this process or another) holds it",
                                        path.string()));
    }
    if (errno != EINTR) return errno_error(errno, fmt::format("lock '{}'", path.string()));
  }
  return std::move(*fd);
}

auto replace_file(const std::filesystem::path& path, const std::string& content) -> result<void> {
  auto replaced = append_file::replace(path, content);
  if (!replaced) return std::move(replaced).error();
  return ok();
}

auto make_directories(const std::filesystem::path& dir) -> result<void> {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return errno_error(ec.value(), fmt::format("create directory '{}'", dir.string()));
  return ok();
}

}  // namespace pipeline::file::detail
