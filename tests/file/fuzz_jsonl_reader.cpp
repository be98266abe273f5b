// libFuzzer target: arbitrary bytes through the JSONL reader (see fuzz_reader.hpp for what is
// checked). The first byte picks the limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_reader.hpp"
#include "json_record.hpp"

extern "C" auto LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) -> int {
  if (size == 0) return 0;
  const std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  fuzz::check(bytes, pipeline::file::detail::jsonl_format{}, data[0]);
  return 0;
}
