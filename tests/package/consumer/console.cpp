// pipeline::console from an install: the store layer and the console link, and answer.
#include <cstdio>
#include <stdexcept>
#include <vector>

#include <pipeline/console/console.hpp>

int main() {
  auto opened = pipeline::admin::open_store("ftp://example.com", {});
  if (opened || opened.error().kind != pipeline::error_kind::invalid_input) return 1;
  try {
    std::vector<pipeline::admin::console_store> none;
    pipeline::admin::console web{std::move(none), {}};
    return 1;  // a console without stores is refused
  } catch (const std::invalid_argument&) {
  }
  std::puts("console consumer: ok");
  return 0;
}
