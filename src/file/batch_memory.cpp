#include "batch_memory.hpp"

#include <functional>
#include <string>

namespace pipeline::file::detail {
namespace {

constexpr std::size_t block_overhead = 16;  // glibc malloc's header and rounding, about

// The heap block of `s`, or 0 when its characters live inside it (the short string buffer).
auto heap_bytes(const std::string& s) noexcept -> std::size_t {
  const auto* inside = reinterpret_cast<const char*>(&s);
  if (std::less_equal<>{}(inside, s.data()) && std::less<>{}(s.data(), inside + sizeof s)) return 0;
  return s.capacity() + 1 + block_overhead;
}

auto heap_bytes(const value& v) noexcept -> std::size_t {
  if (const auto* s = v.get_if<std::string>()) return heap_bytes(*s);
  if (const auto* b = v.get_if<bytes>()) return b->empty() ? 0 : b->capacity() + block_overhead;
  return 0;
}

}  // namespace

auto memory_bytes(const record& r) noexcept -> std::size_t {
  std::size_t total = sizeof(record) + (r.empty() ? 0 : r.size() * sizeof(record::entry) + block_overhead);
  for (const auto& [name, v] : r) total += heap_bytes(name) + heap_bytes(v);
  return total;
}

auto memory_bytes(const position& p) noexcept -> std::size_t { return sizeof(position) + heap_bytes(p.bytes()); }

auto memory_bytes(const dead_letter& d) noexcept -> std::size_t {
  return sizeof(dead_letter) + heap_bytes(d.payload) + heap_bytes(d.reason.message) + heap_bytes(d.reason.backend) +
         heap_bytes(d.pos.bytes()) + heap_bytes(d.job);
}

}  // namespace pipeline::file::detail
