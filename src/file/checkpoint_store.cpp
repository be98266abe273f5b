#include <pipeline/file/checkpoint_store.hpp>

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "posix_io.hpp"
#include "text_codecs.hpp"

namespace pipeline::file {
namespace {

constexpr std::size_t max_escaped_key = 200;
constexpr int format_version = 1;

// The key as a file name that stays in the directory: see the header for the escaping.
auto escape_key(std::string_view key) -> result<std::string> {
  std::string name;
  for (const char c : key) {
    const bool safe =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (safe) name += c;
    else fmt::format_to(std::back_inserter(name), "%{:02X}", static_cast<unsigned char>(c));
  }
  if (name.size() > max_escaped_key) {
    return invalid_input_error(fmt::format("checkpoint key is {} bytes once escaped for a file name, more than {}",
                                           name.size(), max_escaped_key));
  }
  return name;
}

auto corrupt(const std::filesystem::path& path, std::string_view what) -> error {
  return permanent_error(fmt::format("checkpoint file '{}' is corrupt ({}); restore it, or delete it to start over",
                                     path.string(), what));
}

auto encode(const position& pos, std::uint64_t version) -> std::string {
  const nlohmann::ordered_json doc = {
      {"format", format_version}, {"version", version}, {"position", detail::base64_encode(pos.bytes())}};
  return doc.dump() + '\n';
}

auto decode(const std::string& content, const std::filesystem::path& path) -> result<checkpoint> {
  const auto doc = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return corrupt(path, "not a JSON object");
  const auto format = doc.find("format");
  if (format == doc.end() || *format != format_version) return corrupt(path, "no \"format\": 1");
  const auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_unsigned() || *version == 0) {
    return corrupt(path, "no positive integer \"version\"");
  }
  const auto pos = doc.find("position");
  const auto bytes = pos != doc.end() && pos->is_string() ? detail::base64_decode(pos->get_ref<const std::string&>())
                                                          : std::nullopt;
  if (!bytes) return corrupt(path, "no base64 \"position\"");
  return checkpoint{position{*bytes}, version->get<std::uint64_t>()};
}

auto read_checkpoint(const std::filesystem::path& path) -> result<checkpoint> {
  auto content = detail::read_whole_file(path);
  if (!content) return std::move(content).error();
  if (!*content) return checkpoint{};
  return decode(**content, path);
}

// Holds an exclusive flock(2) on the file until destroyed.
auto lock_exclusively(const std::filesystem::path& path) -> result<detail::unique_fd> {
  auto fd = detail::open_file(path, O_RDWR | O_CREAT);
  if (!fd) return std::move(fd).error();
  while (::flock(fd->get(), LOCK_EX) != 0) {
    if (errno != EINTR) return detail::errno_error(errno, fmt::format("lock '{}'", path.string()));
  }
  return std::move(*fd);
}

// Writes `content` to `tmp`, fsyncs it and renames it to `path`.
auto write_then_rename(const std::filesystem::path& tmp, const std::filesystem::path& path, const std::string& content)
    -> result<void> {
  auto fd = detail::open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (!fd) return std::move(fd).error();
  if (auto written = detail::write_at(*fd, content, 0, tmp); !written) return written;
  if (auto synced = detail::sync_file(*fd, tmp); !synced) return synced;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return detail::errno_error(errno, fmt::format("rename '{}' to '{}'", tmp.string(), path.string()));
  }
  return ok();
}

// write_then_rename, removing `tmp` when it fails.
auto replace_file(const std::filesystem::path& tmp, const std::filesystem::path& path, const std::string& content)
    -> result<void> {
  auto replaced = write_then_rename(tmp, path, content);
  if (!replaced) {
    std::error_code ignored;  // the failure that matters is the one returned
    std::filesystem::remove(tmp, ignored);
  }
  return replaced;
}

}  // namespace

checkpoint_store::checkpoint_store(std::filesystem::path directory) : directory_(std::move(directory)) {
  if (directory_.empty()) throw std::invalid_argument("checkpoint_store: directory is empty");
}

auto checkpoint_store::load(std::string_view key) -> result<checkpoint> {
  auto name = escape_key(key);
  if (!name) return std::move(name).error();
  return read_checkpoint(directory_ / (*name + ".checkpoint"));
}

auto checkpoint_store::save(std::string_view key, const position& pos, std::uint64_t expected_version)
    -> result<std::uint64_t> {
  auto name = escape_key(key);
  if (!name) return std::move(name).error();
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) return detail::errno_error(ec.value(), fmt::format("create directory '{}'", directory_.string()));

  const auto path = directory_ / (*name + ".checkpoint");
  auto lock = lock_exclusively(directory_ / (*name + ".lock"));
  if (!lock) return std::move(lock).error();
  auto stored = read_checkpoint(path);
  if (!stored) return std::move(stored).error();
  if (stored->version != expected_version) {
    return conflict_error(fmt::format("checkpoint '{}' is at version {}, not {}", key, stored->version,
                                      expected_version));
  }
  const std::uint64_t next = expected_version + 1;
  if (auto replaced = replace_file(directory_ / (*name + ".tmp"), path, encode(pos, next)); !replaced) {
    return std::move(replaced).error();
  }
  if (auto synced = detail::sync_directory(directory_); !synced) return std::move(synced).error();
  return next;
}

}  // namespace pipeline::file
