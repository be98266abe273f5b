#include "file_source.hpp"

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace pipeline::file::detail {

auto checked_limits(std::string_view source, const std::filesystem::path& path, batch_limits limits) -> batch_limits {
  const auto fail = [&](std::string_view what) { throw std::invalid_argument(fmt::format("{}: {}", source, what)); };
  if (path.empty()) fail("path is empty");
  if (limits.batch_size == 0) fail("batch_size must be > 0");
  if (limits.max_batch_bytes == 0) fail("max_batch_bytes must be > 0");
  // One byte more than the limit is buffered (see record_reader), and it must fit a string.
  if (limits.reader.max_record_bytes == 0 || limits.reader.max_record_bytes >= std::string{}.max_size()) {
    fail("max_record_bytes must be > 0 and less than std::string's max_size()");
  }
  if (limits.reader.buffer_bytes == 0) fail("read_buffer_bytes must be > 0");
  return limits;
}

}  // namespace pipeline::file::detail
