#pragma once
// The JSON of what a store holds, one shape for `pipeline-admin --json` and the console's
// API (docs/console.md): the tool includes this private header from src/console/.

#include <cstddef>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include <pipeline/console/store.hpp>

namespace pipeline::admin {

/// Bytes as text when they are printable ASCII, else as hex ("0x…"): positions and payloads
/// are bytes.
[[nodiscard]] auto shown_bytes(const std::string& bytes) -> std::string;

/// A time as UTC ISO-8601 with microseconds.
[[nodiscard]] auto iso_time(std::chrono::system_clock::time_point t) -> std::string;

/// The fields of `pipeline::job_run`.
[[nodiscard]] auto run_json(const job_run& run) -> nlohmann::json;

/// A letter with its payload cut to `payload_limit` bytes; `payload_bytes` is the whole size
/// and `truncated` says whether it was cut.
[[nodiscard]] auto letter_json(const stored_dead_letter& stored,
                               std::size_t payload_limit = std::numeric_limits<std::size_t>::max()) -> nlohmann::json;

[[nodiscard]] auto queue_json(const queue_status& status) -> nlohmann::json;

/// `value` as text; payloads are bytes, so invalid UTF-8 becomes U+FFFD rather than failing.
[[nodiscard]] auto json_text(const nlohmann::json& value, int indent = -1) -> std::string;

}  // namespace pipeline::admin
