#include <pipeline/pipeline.hpp>

int main() {
  pipeline::vector_source<int> source{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 4};  // batches of 4
  pipeline::memory_sink<int> sink;
  pipeline::memory_checkpoint_store checkpoints;

  for (std::uint64_t version = 0;;) {
    auto next = source.next_batch({}).value();  // a batch, or nullopt at the end
    if (!next) break;
    sink.write(std::span{next->records}, {}).value();
    version = checkpoints.save("quickstart", next->end, version).value();  // resume point
  }
  fmt::print("{} records written, resume from {}\n", sink.records().size(), checkpoints.load("quickstart")->pos.bytes());
}
