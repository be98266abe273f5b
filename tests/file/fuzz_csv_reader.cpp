// libFuzzer target: arbitrary bytes through the CSV reader (see fuzz_reader.hpp for what is
// checked). The first byte picks the delimiter, the header and the limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csv_format.hpp"
#include "fuzz_reader.hpp"

extern "C" auto LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) -> int {
  if (size == 0) return 0;
  const char delimiter = std::string_view{",;\t|"}[data[0] & 3u];
  const bool has_header = (data[0] & 4u) != 0;
  const std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  const auto knobs = static_cast<std::uint8_t>(data[0] >> 3);
  // Few fields allowed, so that max_fields is reached often.
  fuzz::check(bytes, pipeline::file::detail::csv_format{delimiter, has_header, 6}, knobs);
  return 0;
}
