#include <pipeline/file/dead_letter_file_source.hpp>

#include "dead_letter_json.hpp"
#include "file_source.hpp"

namespace pipeline::file {

template class detail::file_source_base<detail::dead_letter_format, dead_letter>;

dead_letter_file_source::dead_letter_file_source(dead_letter_file_source_options options)
    : file_source_base(detail::make_source_state(options.path, detail::dead_letter_format{},
                                                 detail::checked_limits("dead_letter_file_source", options))) {}

auto read_dead_letters(const std::filesystem::path& path) -> result<std::vector<dead_letter>> {
  dead_letter_file_source source{{.path = path}};
  std::vector<dead_letter> all;
  for (;;) {
    auto next = source.next_batch({});
    if (!next) return std::move(next).error();
    if (!*next) return all;
    if (!(*next)->rejected.empty()) return (*next)->rejected.front().reason;
    all.insert(all.end(), (*next)->records.begin(), (*next)->records.end());
  }
}

}  // namespace pipeline::file
