#include "file_source.hpp"

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace pipeline::file::detail {

auto checked_limits(std::string_view source, const std::filesystem::path& path, std::size_t batch_size,
                    std::size_t max_record_bytes, std::size_t read_buffer_bytes) -> batch_limits {
  const auto fail = [&](std::string_view what) { throw std::invalid_argument(fmt::format("{}: {}", source, what)); };
  if (path.empty()) fail("path is empty");
  if (batch_size == 0) fail("batch_size must be > 0");
  // One byte more than the limit is buffered (see record_reader), and it must fit a string.
  if (max_record_bytes == 0 || max_record_bytes >= std::string{}.max_size()) {
    fail("max_record_bytes must be > 0 and less than std::string's max_size()");
  }
  if (read_buffer_bytes == 0) fail("read_buffer_bytes must be > 0");
  return batch_limits{batch_size, reader_limits{max_record_bytes, read_buffer_bytes}};
}

}  // namespace pipeline::file::detail
