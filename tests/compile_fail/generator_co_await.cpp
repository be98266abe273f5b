// expect: await_transform
// A generator is synchronous: nothing would resume a body suspended on co_await.
#include <coroutine>

#include <pipeline/generator.hpp>

auto misuse() -> pipeline::generator<int> {
  co_await std::suspend_always{};
  co_yield 1;
}
