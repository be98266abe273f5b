// Copies notes from one directory to another through the custom adapters, checkpointing
// after every batch; run it twice and the second run resumes where the first stopped.
#include <pipeline/pipeline.hpp>

#include <cstdio>
#include <filesystem>

#include "directory_store.hpp"

int main(int argc, char** argv) {
  const std::filesystem::path root = argc > 1 ? argv[1] : std::filesystem::temp_directory_path() / "pipeline-notes";
  {  // Some input, written with the custom sink itself.
    example::directory_sink seed{root / "in"};
    std::vector<note> notes;
    for (int i = 0; i < 200; ++i) notes.push_back(note{fmt::format("note-{:04}", i), fmt::format("body {}", i)});
    seed.write(std::span{std::as_const(notes)}, {}).value();
  }

  example::directory_source source{root / "in", 50};
  example::directory_sink sink{root / "out"};
  pipeline::memory_checkpoint_store checkpoints;  // a durable store would survive a restart

  auto cp = checkpoints.load("notes").value();
  source.seek(cp.pos).value();
  std::size_t copied = 0;
  for (;;) {
    auto next = source.next_batch({});
    if (!next) {
      fmt::print(stderr, "reading notes failed: {}\n", next.error());
      return 1;
    }
    if (!*next) break;
    const auto& b = **next;
    if (auto written = sink.write(std::span{b.records}, {}); !written) {
      fmt::print(stderr, "writing notes failed: {}\n", written.error());
      return 1;
    }
    cp.version = checkpoints.save("notes", b.end, cp.version).value();
    copied += b.records.size();
  }
  std::printf("copied %zu notes to %s, checkpoint at '%s'\n", copied, (root / "out").c_str(),
              checkpoints.load("notes")->pos.bytes().c_str());
  return 0;
}
