// A consumer's program using pipeline::file: writes one JSON line, reads it back.
#include <pipeline/file/file.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

int main() {
  const auto path = std::filesystem::temp_directory_path() /
                    ("pipeline-file-consumer-" + std::to_string(::getpid()) + ".jsonl");
  const pipeline::record row{{"id", 1}, {"name", "ann"}};
  {
    auto sink = pipeline::file::jsonl_sink::open({.path = path, .resume_offset = 0});
    if (!sink) return 1;
    const std::vector<pipeline::record> rows{row};
    if (!sink->write(std::span{rows}, {}) || !sink->flush({})) return 1;
  }
  pipeline::file::jsonl_source source{{.path = path}};
  auto next = source.next_batch({});
  std::filesystem::remove(path);
  if (!next || !*next || (*next)->records.size() != 1) return 1;
  std::printf("read back %s\n", fmt::format("{}", (*next)->records.front()).c_str());
  return (*next)->records.front() == row ? 0 : 1;
}
