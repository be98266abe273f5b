// expect: conversion from|no viable conversion|constraints not satisfied
// A type without `write(std::span<const T>, std::stop_token) -> result<void>` is not a sink.
#include <pipeline/any_sink.hpp>

struct prints_rows {
  using value_type = int;
  void print(int) {}
};

void misuse() { pipeline::any_sink<int> sink = prints_rows{}; }
