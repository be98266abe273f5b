#include <pipeline/file/dead_letter_file.hpp>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "dead_letter_json.hpp"
#include "posix_io.hpp"

namespace pipeline::file {

struct dead_letter_file::impl {
  std::filesystem::path path;
  std::mutex mutex;
  std::optional<detail::append_file> file;  // opened by the first write
};

dead_letter_file::dead_letter_file(std::filesystem::path path) : impl_(std::make_unique<impl>()) {
  if (path.empty()) throw std::invalid_argument("dead_letter_file: path is empty");
  impl_->path = std::move(path);
}
dead_letter_file::dead_letter_file(dead_letter_file&&) noexcept = default;
auto dead_letter_file::operator=(dead_letter_file&&) noexcept -> dead_letter_file& = default;
dead_letter_file::~dead_letter_file() = default;

auto dead_letter_file::write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  std::string lines;
  for (const auto& letter : letters) detail::append_dead_letter_json(letter, lines);
  std::scoped_lock lock{impl_->mutex};
  if (!impl_->file) {
    auto opened = detail::append_file::open(impl_->path, std::nullopt);
    if (!opened) return std::move(opened).error();
    impl_->file.emplace(std::move(*opened));
  }
  return impl_->file->append(lines, detail::append_file::durability::synced);
}

}  // namespace pipeline::file
