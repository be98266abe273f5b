// libFuzzer target: arbitrary bytes through the JSONL reader (see fuzz_reader.hpp for what is
// checked). The first byte picks the limits; the input's length picks what an out-of-range
// number becomes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_reader.hpp"
#include "json_record.hpp"

extern "C" auto LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) -> int {
  if (size == 0) return 0;
  const std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  // Small member and depth limits, so that both are reached often.
  const pipeline::file::detail::jsonl_format format{
      {.max_members = 4,
       .max_depth = 6,
       .numbers = size % 2 == 0 ? pipeline::file::out_of_range::reject : pipeline::file::out_of_range::keep_as_text}};
  fuzz::check(bytes, format, data[0]);
  return 0;
}
