// expect: deleted
// A generator owns its coroutine frame: it moves, it does not copy.
#include <pipeline/generator.hpp>

auto ids() -> pipeline::generator<int> { co_yield 1; }

void misuse() {
  auto g = ids();
  auto copy = g;
}
