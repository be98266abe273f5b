#pragma once
// bson_error_t and server replies → pipeline::error, classified for retry.

#include <cstdint>
#include <string_view>

#include <pipeline/error.hpp>

#include <mongoc/mongoc.h>

namespace pipeline::mongodb::detail {

/// The kind of a MongoDB server error code (writeErrors[].code, a command's code).
[[nodiscard]] auto kind_of_server_code(std::int64_t code) noexcept -> error_kind;

/// A libmongoc error (error API version 2), with `what` said first: "insert into db.coll: …".
[[nodiscard]] auto to_error(const bson_error_t& e, std::string_view what) -> error;

/// A server error code and message (from a reply), with `what` said first.
[[nodiscard]] auto server_error(std::int64_t code, std::string_view message, std::string_view what) -> error;

}  // namespace pipeline::mongodb::detail
