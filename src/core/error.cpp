#include <pipeline/error.hpp>

#include <fmt/format.h>

namespace pipeline {
namespace {
auto make(error_kind kind, std::string message) -> error {
  return error{kind, std::move(message), 0, {}};
}
}  // namespace

auto to_string(error_kind kind) noexcept -> std::string_view {
  switch (kind) {
    case error_kind::transient: return "transient";
    case error_kind::permanent: return "permanent";
    case error_kind::invalid_input: return "invalid_input";
    case error_kind::conflict: return "conflict";
    case error_kind::not_found: return "not_found";
    case error_kind::stopped: return "stopped";
    case error_kind::internal: return "internal";
  }
  return "unknown";
}

auto parse_error_kind(std::string_view name) noexcept -> std::optional<error_kind> {
  for (const auto kind : {error_kind::transient, error_kind::permanent, error_kind::invalid_input, error_kind::conflict,
                          error_kind::not_found, error_kind::stopped, error_kind::internal}) {
    if (to_string(kind) == name) return kind;
  }
  return std::nullopt;
}

auto transient_error(std::string message) -> error { return make(error_kind::transient, std::move(message)); }
auto permanent_error(std::string message) -> error { return make(error_kind::permanent, std::move(message)); }
auto invalid_input_error(std::string message) -> error { return make(error_kind::invalid_input, std::move(message)); }
auto conflict_error(std::string message) -> error { return make(error_kind::conflict, std::move(message)); }
auto not_found_error(std::string message) -> error { return make(error_kind::not_found, std::move(message)); }
auto stopped_error() -> error { return make(error_kind::stopped, "stop requested"); }
auto internal_error(std::string message) -> error { return make(error_kind::internal, std::move(message)); }

bad_result_access::bad_result_access(pipeline::error e)
    : std::runtime_error(fmt::format("bad result access: {}", e)), error_(std::move(e)) {}

}  // namespace pipeline

auto fmt::formatter<pipeline::error>::format(const pipeline::error& e, format_context& ctx) const
    -> format_context::iterator {
  auto out = fmt::format_to(ctx.out(), "{}: {}", pipeline::to_string(e.kind), e.message);
  if (!e.backend.empty()) out = fmt::format_to(out, " ({} {})", e.backend, e.native_code);
  return out;
}

auto fmt::formatter<pipeline::error_kind>::format(pipeline::error_kind k, format_context& ctx) const
    -> format_context::iterator {
  return fmt::formatter<std::string_view>::format(pipeline::to_string(k), ctx);
}
