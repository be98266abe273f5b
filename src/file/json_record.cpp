#include "json_record.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pipeline/detail/time_text.hpp>

#include "text_codecs.hpp"

namespace pipeline::file::detail {
namespace {

using json = nlohmann::ordered_json;  // keeps members in the order of the line

auto to_value(const json& v, const std::string& name) -> result<value> {
  switch (v.type()) {
    case json::value_t::null: return value{};
    case json::value_t::boolean: return value{v.get<bool>()};
    case json::value_t::number_integer: return value{v.get<std::int64_t>()};
    case json::value_t::number_unsigned: {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return invalid_input_error(fmt::format("member \"{}\": {} does not fit in a signed 64-bit integer", name, u));
      }
      return value{static_cast<std::int64_t>(u)};
    }
    case json::value_t::number_float: return value{v.get<double>()};
    case json::value_t::string: return value{v.get_ref<const std::string&>()};
    default: return value{v.dump()};  // an object or an array (nothing else comes out of parse)
  }
}

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

auto parse_json_record(std::string_view text) -> result<record> {
  std::size_t members = 0;  // of the top-level object, duplicates included
  bool too_deep = false;
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(), [&](int depth, json::parse_event_t event, json&) {
      if (depth > max_json_depth) {
        too_deep = true;
        return false;  // dropped, so the document stays shallow
      }
      if (event == json::parse_event_t::key && depth == 1) ++members;
      return true;
    });
  } catch (const json::exception& e) {
    return invalid_input_error(fmt::format("not JSON: {}", e.what()));
  }
  if (too_deep) return invalid_input_error(fmt::format("JSON nested deeper than {} levels", max_json_depth));
  if (!doc.is_object()) return invalid_input_error(fmt::format("a JSON {}, not an object", doc.type_name()));
  if (doc.size() != members) return invalid_input_error("a member name appears twice in the object");
  std::vector<record::entry> fields;
  fields.reserve(doc.size());
  for (auto member = doc.cbegin(); member != doc.cend(); ++member) {
    auto converted = to_value(member.value(), member.key());
    if (!converted) return std::move(converted).error();
    fields.emplace_back(member.key(), std::move(*converted));
  }
  return record::from_fields(std::move(fields));
}

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
