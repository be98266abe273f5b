// A consumer's program: reads records in batches and stores them, with a checkpoint.
#include <pipeline/pipeline.hpp>

#include <cstdio>
#include <vector>

int main() {
  pipeline::vector_source<int> source{{1, 2, 3, 4, 5, 6, 7}, 3};
  pipeline::memory_sink<int> sink;
  pipeline::memory_checkpoint_store checkpoints;
  std::uint64_t version = 0;
  while (auto next = source.next_batch({})) {
    if (!*next) break;
    auto& b = **next;
    if (!sink.write(std::span{std::as_const(b.records)}, {})) return 1;
    version = checkpoints.save("consumer", b.end, version).value();
  }
  const auto stored = sink.records();
  const auto resume = checkpoints.load("consumer").value().pos.to_integer();
  std::printf("stored %zu records, checkpoint at %lld\n", stored.size(), static_cast<long long>(resume.value_or(-1)));
  return stored.size() == 7 && resume == 7 ? 0 : 1;
}
