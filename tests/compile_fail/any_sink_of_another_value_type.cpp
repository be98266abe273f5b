// expect: no matching (function|constructor)|constraints not satisfied
// An any_sink<int> cannot hold a sink of strings.
#include <pipeline/any_sink.hpp>
#include <pipeline/memory/memory_sink.hpp>

#include <string>

void misuse() { pipeline::any_sink<int> sink{std::in_place_type<pipeline::memory_sink<std::string>>}; }
