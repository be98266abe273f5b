#include <pipeline/file/checkpoint_store.hpp>

#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "posix_io.hpp"
#include "store_files.hpp"
#include "text_codecs.hpp"

namespace pipeline::file {
namespace {

constexpr int format_version = 1;

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

// The checkpoint files of one directory: the backend of `checkpoint_store`.
class checkpoint_files final : public pipeline::detail::checkpoint_backend {
 public:
  explicit checkpoint_files(std::filesystem::path directory) : directory_(std::move(directory)) {
    if (directory_.empty()) throw std::invalid_argument("checkpoint_store: directory is empty");
  }

  auto load(std::string_view key) -> result<checkpoint> override {
    auto name = detail::escape_file_name(key, "checkpoint key");
    if (!name) return std::move(name).error();
    return read_checkpoint(directory_ / (*name + ".checkpoint"));
  }

  auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> override {
    auto name = detail::escape_file_name(key, "checkpoint key");
    if (!name) return std::move(name).error();
    if (auto made = detail::make_directories(directory_); !made) return std::move(made).error();

    const auto path = directory_ / (*name + ".checkpoint");
    auto lock = detail::lock_exclusively(directory_ / (*name + ".lock"));
    if (!lock) return std::move(lock).error();
    auto stored = read_checkpoint(path);
    if (!stored) return std::move(stored).error();
    if (stored->version != expected_version) {
      return conflict_error(fmt::format("checkpoint '{}' is at version {}, not {}", key, stored->version,
                                        expected_version));
    }
    const std::uint64_t next = expected_version + 1;
    if (auto replaced = detail::replace_file(path, encode(pos, next)); !replaced) return std::move(replaced).error();
    return next;
  }

  auto keys() -> result<std::vector<std::string>> override {
    return detail::escaped_names(directory_, detail::entry_type::file, ".checkpoint");
  }

 private:
  std::filesystem::path directory_;
};

}  // namespace

checkpoint_store::checkpoint_store(std::filesystem::path directory)
    : basic_checkpoint_store(std::make_shared<checkpoint_files>(std::move(directory))) {}

}  // namespace pipeline::file
