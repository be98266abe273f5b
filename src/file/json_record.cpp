#include "json_record.hpp"

#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pipeline/detail/time_text.hpp>

#include "text_codecs.hpp"

namespace pipeline::file::detail {
namespace {

using json = nlohmann::json;

// `text` as a JSON string literal, or nullopt when it is not UTF-8.
auto json_string(std::string_view text) -> std::optional<std::string> {
  try {
    return json(text).dump();
  } catch (const json::type_error&) {
    return std::nullopt;
  }
}

auto append_value(const value& v, std::string& out) -> result<void> {
  switch (v.kind()) {
    case value_kind::null: out += "null"; break;
    case value_kind::boolean: out += *v.get_if<bool>() ? "true" : "false"; break;
    case value_kind::int64: fmt::format_to(std::back_inserter(out), "{}", *v.get_if<std::int64_t>()); break;
    case value_kind::float64: {
      const double d = *v.get_if<double>();
      if (!std::isfinite(d)) return invalid_input_error(fmt::format("{} has no JSON form", d));
      out += json(d).dump();  // as nlohmann reads it back: 1.0 stays a double
      break;
    }
    case value_kind::string: {
      auto text = json_string(*v.get_if<std::string>());
      if (!text) return invalid_input_error("the string is not UTF-8");
      out += *text;
      break;
    }
    case value_kind::binary: {
      const auto& b = *v.get_if<bytes>();
      out += '"';
      out += base64_encode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
      out += '"';
      break;
    }
    case value_kind::datetime: {
      auto text = pipeline::detail::format_iso_time(*v.get_if<timestamp>());
      if (!text) return invalid_input_error("the time is outside the years 0000-9999 that ISO-8601 text holds");
      out += '"';
      out += *text;
      out += '"';
      break;
    }
  }
  return ok();
}

}  // namespace

auto append_json_record(const record& r, std::string& out) -> result<void> {
  out += '{';
  bool first = true;
  for (const auto& [name, v] : r) {
    if (!std::exchange(first, false)) out += ',';
    auto key = json_string(name);
    if (!key) return invalid_input_error(fmt::format("field name \"{}\" is not UTF-8", name));
    out += *key;
    out += ':';
    if (auto appended = append_value(v, out); !appended) {
      return invalid_input_error(fmt::format("field \"{}\": {}", name, appended.error().message));
    }
  }
  out += "}\n";
  return ok();
}

}  // namespace pipeline::file::detail
