#pragma once
// Small pieces the stores share: times as BSON dates, positions and payloads as binary.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <mongoc/mongoc.h>

namespace pipeline::mongodb::detail {

inline auto to_millis(std::chrono::system_clock::time_point t) -> std::int64_t {
  return std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
}
inline auto from_millis(std::int64_t ms) -> std::chrono::system_clock::time_point {
  return std::chrono::system_clock::time_point{std::chrono::milliseconds{ms}};
}

inline void append_binary(bson_t* doc, const char* key, std::string_view bytes) {
  bson_append_binary(doc, key, -1, BSON_SUBTYPE_BINARY, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                     static_cast<std::uint32_t>(bytes.size()));
}
inline void append_text(bson_t* doc, const char* key, std::string_view text) {
  bson_append_utf8(doc, key, -1, text.data(), static_cast<int>(text.size()));
}

/// Typed field readers: nullopt when the field is missing or of another type.
inline auto binary_field(const bson_t& doc, const char* key) -> std::optional<std::string> {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &doc, key) || !BSON_ITER_HOLDS_BINARY(&it)) return std::nullopt;
  bson_subtype_t subtype;
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_binary(&it, &subtype, &length, &data);
  return std::string(reinterpret_cast<const char*>(data), length);
}
inline auto text_field(const bson_t& doc, const char* key) -> std::optional<std::string> {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &doc, key) || !BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
  std::uint32_t length = 0;
  const char* s = bson_iter_utf8(&it, &length);
  return std::string(s, length);
}
/// An integer stored as int32, int64 or an integral double: servers may narrow what they
/// were sent (CongoDB returns an int64 below 2^31 as int32, and one below 2^53 as a double).
inline auto integer_field(const bson_t& doc, const char* key) -> std::optional<std::int64_t> {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &doc, key)) return std::nullopt;
  if (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)) return bson_iter_as_int64(&it);
  if (BSON_ITER_HOLDS_DOUBLE(&it)) {
    const double d = bson_iter_double(&it);
    constexpr double limit = 9007199254740992.0;  // 2^53: every integer up to it is exact
    if (d >= -limit && d <= limit && d == std::trunc(d)) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}
inline auto date_field(const bson_t& doc, const char* key) -> std::optional<std::chrono::system_clock::time_point> {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &doc, key) || !BSON_ITER_HOLDS_DATE_TIME(&it)) return std::nullopt;
  return from_millis(bson_iter_date_time(&it));
}

}  // namespace pipeline::mongodb::detail
