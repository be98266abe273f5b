#pragma once

// Binary data as text, for JSON: base64 (RFC 4648, standard alphabet, padded). Times use
// pipeline/detail/time_text.hpp.

#include <optional>
#include <string>
#include <string_view>
namespace pipeline::file::detail {

[[nodiscard]] auto base64_encode(std::string_view bytes) -> std::string;
/// nullopt unless `text` is canonical padded base64 (so each byte string has one encoding).
[[nodiscard]] auto base64_decode(std::string_view text) -> std::optional<std::string>;

}  // namespace pipeline::file::detail
