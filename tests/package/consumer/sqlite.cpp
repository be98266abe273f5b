// A consumer's program on pipeline::sqlite: a checkpoint and a dead letter kept in sqlite.
#include <pipeline/sqlite/sqlite.hpp>

#include <cstdio>
#include <span>
#include <utility>
#include <vector>

int main() {
  auto db = pipeline::sqlite::database::open(":memory:").value();
  auto checkpoints = pipeline::sqlite::checkpoint_store::open(db).value();
  auto dlq = pipeline::sqlite::dead_letter_table::open(db).value();

  const auto version = checkpoints.save("consumer", pipeline::position::from_integer(7), 0).value();
  std::vector<pipeline::dead_letter> letters(1);
  letters[0].payload = "a bad row";
  letters[0].reason = pipeline::permanent_error("refused");
  dlq.write(std::span{std::as_const(letters)}, {}).value();

  const auto resume = checkpoints.load("consumer").value().pos.to_integer();
  const auto stored = dlq.read(0, 10).value();
  std::printf("checkpoint at %lld (version %llu), %zu dead letter(s)\n", static_cast<long long>(resume.value_or(-1)),
              static_cast<unsigned long long>(version), stored.size());
  return resume == 7 && stored.size() == 1 && stored[0].second.payload == "a bad row" ? 0 : 1;
}
