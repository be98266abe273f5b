#include "document.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "handles.hpp"

namespace pipeline::mongodb::detail {

namespace {

auto contains(const std::vector<std::string>& names, std::string_view name) noexcept -> bool {
  return std::find(names.begin(), names.end(), name) != names.end();
}

auto bad_key(std::string_view name) -> error {
  return invalid_input_error(fmt::format("field name '{}' cannot be a BSON key (NUL byte or too long)", name));
}

// The JSON text of a one-element wrapper { "v" : <value> }, stripped of the wrapper: libbson
// 1.23 renders outermost arrays only in legacy JSON, so this is how arrays get relaxed JSON.
auto wrapped_json(const bson_t& wrapper) -> std::string {
  std::size_t length = 0;
  const chars_ptr text{bson_as_relaxed_extended_json(&wrapper, &length)};
  if (!text) return {};
  std::string_view json{text.get(), length};
  constexpr std::string_view prefix = R"({ "v" : )";
  constexpr std::string_view suffix = " }";
  if (json.starts_with(prefix) && json.ends_with(suffix)) {
    json = json.substr(prefix.size(), json.size() - prefix.size() - suffix.size());
  }
  return std::string(json);
}

}  // namespace

auto field_rules::is_object_id(std::string_view name) const noexcept -> bool { return contains(object_id_fields, name); }
auto field_rules::is_json(std::string_view name) const noexcept -> bool { return contains(json_fields, name); }

auto append_value(bson_t* doc, std::string_view name, const value& v, const field_rules& rules) -> result<void> {
  if (name.size() > static_cast<std::size_t>(INT_MAX) || name.find('\0') != std::string_view::npos) return bad_key(name);
  const char* key = name.data();
  const int key_length = static_cast<int>(name.size());
  bool appended = false;
  switch (v.kind()) {
    case value_kind::null:
      appended = bson_append_null(doc, key, key_length);
      break;
    case value_kind::boolean:
      appended = bson_append_bool(doc, key, key_length, v.get<bool>());
      break;
    case value_kind::int64:
      appended = bson_append_int64(doc, key, key_length, v.get<std::int64_t>());
      break;
    case value_kind::float64:
      appended = bson_append_double(doc, key, key_length, v.get<double>());
      break;
    case value_kind::string: {
      const auto& s = v.get<std::string>();
      if (rules.is_object_id(name)) {
        if (s.size() != 24 || !bson_oid_is_valid(s.c_str(), s.size())) {
          return invalid_input_error(fmt::format("field '{}' is an ObjectId field but holds \"{}\", not 24 hex digits", name, s));
        }
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, s.c_str());
        appended = bson_append_oid(doc, key, key_length, &oid);
      } else if (rules.is_json(name)) {
        // Wrapped, so that arrays and scalars parse as well as documents.
        auto parsed = parse_json(fmt::format(R"({{"v": {}}})", s), fmt::format("JSON field '{}'", name));
        if (!parsed) return std::move(parsed).error();
        bson_iter_t it;
        if (!bson_iter_init_find(&it, parsed->get(), "v")) return invalid_input_error(fmt::format("JSON field '{}' is empty", name));
        appended = bson_append_value(doc, key, key_length, bson_iter_value(&it));
      } else {
        if (s.size() > static_cast<std::size_t>(INT_MAX) - 1) return invalid_input_error(fmt::format("field '{}' is too long for BSON", name));
        appended = bson_append_utf8(doc, key, key_length, s.data(), static_cast<int>(s.size()));
      }
      break;
    }
    case value_kind::binary: {
      const auto& b = v.get<bytes>();
      if (b.size() > static_cast<std::size_t>(UINT32_MAX)) return invalid_input_error(fmt::format("field '{}' is too long for BSON", name));
      appended = bson_append_binary(doc, key, key_length, BSON_SUBTYPE_BINARY, reinterpret_cast<const std::uint8_t*>(b.data()),
                                    static_cast<std::uint32_t>(b.size()));
      break;
    }
    case value_kind::datetime: {
      // BSON dates are milliseconds: the microseconds below are dropped (floored).
      const auto ms = std::chrono::floor<std::chrono::milliseconds>(v.get<timestamp>()).time_since_epoch().count();
      appended = bson_append_date_time(doc, key, key_length, ms);
      break;
    }
  }
  if (!appended) return invalid_input_error(fmt::format("field '{}' does not fit in a BSON document (16 MiB at most)", name));
  return ok();
}

auto to_json(const bson_iter_t& it) -> std::string {
  scoped_bson wrapper;
  bson_append_value(wrapper.get(), "v", 1, bson_iter_value(const_cast<bson_iter_t*>(&it)));
  return wrapped_json(*wrapper.get());
}

auto to_value(const bson_iter_t& element) -> value {
  auto* it = const_cast<bson_iter_t*>(&element);  // libbson's getters take non-const iterators
  switch (bson_iter_type(it)) {
    case BSON_TYPE_NULL:
    case BSON_TYPE_UNDEFINED:
      return {};
    case BSON_TYPE_BOOL:
      return bson_iter_bool(it);
    case BSON_TYPE_INT32:
      return static_cast<std::int64_t>(bson_iter_int32(it));
    case BSON_TYPE_INT64:
      return bson_iter_int64(it);
    case BSON_TYPE_DOUBLE:
      return bson_iter_double(it);
    case BSON_TYPE_UTF8: {
      std::uint32_t length = 0;
      const char* s = bson_iter_utf8(it, &length);
      return std::string(s, length);
    }
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(it), hex);
      return std::string(hex, 24);
    }
    case BSON_TYPE_DATE_TIME: {
      const auto ms = bson_iter_date_time(it);
      constexpr auto limit = std::numeric_limits<std::int64_t>::max() / 1000;
      if (ms > limit || ms < -limit) break;  // beyond a microsecond timestamp: JSON below
      return timestamp{std::chrono::milliseconds{ms}};
    }
    case BSON_TYPE_BINARY: {
      bson_subtype_t subtype;
      std::uint32_t length = 0;
      const std::uint8_t* data = nullptr;
      bson_iter_binary(it, &subtype, &length, &data);
      const auto* first = reinterpret_cast<const std::byte*>(data);
      return bytes(first, first + length);
    }
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t d;
      bson_iter_decimal128(it, &d);
      char text[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&d, text);
      return std::string(text);
    }
    default:
      break;
  }
  return to_json(element);
}

auto to_record(const bson_t& doc) -> result<record> {
  std::vector<record::entry> fields;
  bson_iter_t it;
  if (!bson_iter_init(&it, &doc)) return invalid_input_error("the server sent a malformed BSON document");
  while (bson_iter_next(&it)) {
    fields.emplace_back(std::string(bson_iter_key(&it), bson_iter_key_len(&it)), to_value(it));
  }
  return record::from_fields(std::move(fields));
}

auto parse_json(std::string_view json, std::string_view what) -> result<bson_ptr> {
  bson_error_t e;
  bson_ptr doc{bson_new_from_json(reinterpret_cast<const std::uint8_t*>(json.data()), static_cast<ssize_t>(json.size()), &e)};
  if (!doc) return invalid_input_error(fmt::format("{} is not valid JSON: {}", what, static_cast<const char*>(e.message)));
  return doc;
}

}  // namespace pipeline::mongodb::detail
