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

/// Whether `e` (from `to_error` or `server_error`) says the server is away rather than
/// answering about the operation: no server selected in time (the server down, restarting,
/// refusing connections), a connection that could not be made or was lost, or the server
/// shutting down or stepping down. Other transient errors (a write conflict, maxTimeMS) are
/// answers: the runner's retry handles them.
[[nodiscard]] auto is_outage(const error& e) noexcept -> bool;

/// Whether `e` is an outage in which the operation never reached a server (no server
/// selected, a connect refused or unresolved): even a write may be sent again.
[[nodiscard]] auto never_sent(const error& e) noexcept -> bool;

/// A server error code and message (from a reply), with `what` said first.
[[nodiscard]] auto server_error(std::int64_t code, std::string_view message, std::string_view what) -> error;

}  // namespace pipeline::mongodb::detail
