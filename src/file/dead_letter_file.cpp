#include <pipeline/file/dead_letter_file.hpp>

#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <pipeline/detail/dead_letter_fingerprint.hpp>
#include <pipeline/file/dead_letter_file_source.hpp>

#include "dead_letter_json.hpp"
#include "posix_io.hpp"

namespace pipeline::file {

using identity = std::tuple<std::uint32_t, std::string, std::string>;  // partition, position, fingerprint

struct dead_letter_file::impl {
  std::filesystem::path path;
  std::mutex mutex;
  std::optional<detail::append_file> file;  // opened by the first write
  std::set<identity> stored;                // of every entry in the file

  // The identities of the entries already in the file, counted as if written in one call
  // (a store that only ever added new identities holds, per partition, position and payload,
  // repeats 0, 1, … with none missing). Lines that are not entries are skipped.
  auto read_identities(const std::stop_token& stop) -> result<void> {
    dead_letter_file_source entries{{.path = path}};
    pipeline::detail::dead_letter_fingerprinter fingerprints;
    for (;;) {
      auto next = entries.next_batch(stop);
      if (!next) return std::move(next).error();
      if (!*next) return ok();
      for (const auto& l : (*next)->records) stored.emplace(l.partition, l.pos.bytes(), fingerprints.next(l));
    }
  }
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
  const auto fingerprints = pipeline::detail::dead_letter_fingerprints(letters);
  std::scoped_lock lock{impl_->mutex};
  if (!impl_->file) {
    auto opened = detail::append_file::open(impl_->path, std::nullopt);
    if (!opened) return std::move(opened).error();
    if (auto known = impl_->read_identities(stop); !known) {
      impl_->stored.clear();
      return known;
    }
    impl_->file.emplace(std::move(*opened));
  }
  std::string lines;
  std::vector<identity> added;
  for (std::size_t i = 0; i < letters.size(); ++i) {
    identity id{letters[i].partition, letters[i].pos.bytes(), fingerprints[i]};
    if (impl_->stored.contains(id)) continue;
    detail::append_dead_letter_json(letters[i], lines);
    added.push_back(std::move(id));
  }
  if (added.empty()) return ok();
  if (auto appended = impl_->file->append(lines, detail::append_file::durability::synced); !appended) return appended;
  impl_->stored.insert(std::make_move_iterator(added.begin()), std::make_move_iterator(added.end()));
  return ok();
}

}  // namespace pipeline::file
