#pragma once
// pipeline::record ↔ BSON documents (the mapping docs/adapters/mongodb.md describes).

#include <string>
#include <string_view>
#include <vector>

#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

#include <mongoc/mongoc.h>

#include "handles.hpp"

namespace pipeline::mongodb::detail {

/// Which string fields are written as something other than a BSON string.
struct field_rules {
  std::vector<std::string> object_id_fields;  // 24 hex digits → ObjectId
  std::vector<std::string> json_fields;       // JSON text → sub-document or array

  [[nodiscard]] auto is_object_id(std::string_view name) const noexcept -> bool;
  [[nodiscard]] auto is_json(std::string_view name) const noexcept -> bool;
};

/// Appends `v` as field `name` of `doc`; `invalid_input` when `v` cannot be written as the
/// rules ask (not 24 hex digits, not JSON) or the name cannot be a BSON key.
[[nodiscard]] auto append_value(bson_t* doc, std::string_view name, const value& v, const field_rules& rules)
    -> result<void>;

/// Appends every field of `r` to `doc`, except those `skip` returns true for.
template <class Skip>
[[nodiscard]] auto append_fields(bson_t* doc, const record& r, const field_rules& rules, Skip&& skip) -> result<void> {
  for (const auto& [name, v] : r) {
    if (skip(name)) continue;
    if (auto appended = append_value(doc, name, v, rules); !appended) return appended;
  }
  return ok();
}

/// The value of the element at `it`: numbers widened (int32 → int64), ObjectId as its 24 hex
/// digits, date as a timestamp, binary as bytes, decimal128 as its decimal text, sub-documents,
/// arrays and every other type as relaxed Extended JSON text.
[[nodiscard]] auto to_value(const bson_iter_t& it) -> value;

/// The element at `it` as relaxed Extended JSON text ("[1, 2]", "{ \"a\" : 1 }").
[[nodiscard]] auto to_json(const bson_iter_t& it) -> std::string;

/// A document as a record, fields in document order; `invalid_input` on a repeated name.
[[nodiscard]] auto to_record(const bson_t& doc) -> result<record>;

/// Parses JSON text (Extended JSON allowed) into a new document; `invalid_input` naming
/// `what` and libbson's reason.
[[nodiscard]] auto parse_json(std::string_view json, std::string_view what) -> result<bson_ptr>;

}  // namespace pipeline::mongodb::detail
