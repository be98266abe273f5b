#pragma once

// What the file stores (checkpoints, job log) share: names that stay inside their directory,
// exclusive locks across processes, and files replaced atomically and durably.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/result.hpp>

#include "posix_io.hpp"

namespace pipeline::file::detail {

/// `name` as a file name that stays in its directory: every byte other than A-Z a-z 0-9 `_`
/// `-` becomes `%` and two upper-case hex digits. `invalid_input` (naming `what`) when the
/// result is longer than 200 bytes.
[[nodiscard]] auto escape_file_name(std::string_view name, std::string_view what) -> result<std::string>;

/// The name `escape_file_name` made `file_name` from; nullopt when it made no such name (a
/// file of someone else's).
[[nodiscard]] auto unescape_file_name(std::string_view file_name) -> std::optional<std::string>;

/// What `escaped_names` lists: the subdirectories, or the regular files.
enum class entry_type : std::uint8_t { directory, file };

/// The names `escape_file_name` made the entries of `dir` of `type` from, each with `suffix`
/// taken off (entries without it, or whose name no escape made, are left out), sorted; none
/// when `dir` is missing.
[[nodiscard]] auto escaped_names(const std::filesystem::path& dir, entry_type type, std::string_view suffix)
    -> result<std::vector<std::string>>;

/// Whether taking a lock held elsewhere waits for it or fails at once.
enum class lock_wait : std::uint8_t { wait, fail };

/// Holds an exclusive flock(2) on `path` (created when missing, never deleted) until destroyed.
/// With `lock_wait::fail`, a lock held by another open file is a `conflict` error.
[[nodiscard]] auto lock_exclusively(const std::filesystem::path& path, lock_wait wait = lock_wait::wait)
    -> result<unique_fd>;

/// Writes `content` to `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the
/// directory: a crash leaves the old content or the new, never a mix. The temporary file is
/// removed when this fails. Callers hold a lock, so that two never share the temporary file.
[[nodiscard]] auto replace_file(const std::filesystem::path& path, const std::string& content) -> result<void>;

/// create_directories, as a result.
[[nodiscard]] auto make_directories(const std::filesystem::path& dir) -> result<void>;

}  // namespace pipeline::file::detail
