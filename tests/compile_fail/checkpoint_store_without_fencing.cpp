// expect: conversion from|no viable conversion|constraints not satisfied
// A store whose save() takes no expected version cannot fence stale writers: not a checkpoint_store.
#include <pipeline/any_checkpoint_store.hpp>

struct unfenced_store {
  auto load(std::string_view) -> pipeline::result<pipeline::checkpoint> { return pipeline::checkpoint{}; }
  auto save(std::string_view, const pipeline::position&) -> pipeline::result<std::uint64_t> { return 1; }
};

void misuse() { pipeline::any_checkpoint_store store = unfenced_store{}; }
