#pragma once

// What csv_source, jsonl_source and dead_letter_file_source hold behind their pointer, a file
// and a batch_reader over it in their format, and the members of their shared base: each
// source's .cpp includes this and instantiates file_source_base for its format.

#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>

#include <pipeline/file/detail/file_source_base.hpp>

#include "batch_reader.hpp"
#include "byte_stream.hpp"

namespace pipeline::file::detail {

template <class Format>
struct file_source_state {
  file_source_state(std::filesystem::path path, Format format, batch_limits limits)
      : stream(std::move(path)), reader(stream, std::move(format), limits) {}

  file_stream stream;
  batch_reader<Format> reader;
};

/// The options every file source has, checked: throws std::invalid_argument naming the first
/// one that cannot work (`source` says whose, e.g. "csv_source").
[[nodiscard]] auto checked_limits(std::string_view source, const std::filesystem::path& path, batch_limits limits)
    -> batch_limits;

/// The limits of a source's options (each source's options struct has these members).
template <class Options>
[[nodiscard]] auto checked_limits(std::string_view source, const Options& o) -> batch_limits {
  return checked_limits(source, o.path,
                        batch_limits{o.batch_size, o.max_batch_bytes, reader_limits{o.max_record_bytes, o.read_buffer_bytes}});
}

/// A source's state over `path`.
template <class Format>
auto make_source_state(std::filesystem::path path, Format format, batch_limits limits)
    -> std::unique_ptr<file_source_state<Format>> {
  return std::make_unique<file_source_state<Format>>(std::move(path), std::move(format), limits);
}

template <class Format, class T>
file_source_base<Format, T>::file_source_base(std::unique_ptr<file_source_state<Format>> state) noexcept
    : state_(std::move(state)) {}

template <class Format, class T>
file_source_base<Format, T>::file_source_base(file_source_base&&) noexcept = default;

template <class Format, class T>
auto file_source_base<Format, T>::operator=(file_source_base&&) noexcept -> file_source_base& = default;

template <class Format, class T>
file_source_base<Format, T>::~file_source_base() = default;

template <class Format, class T>
auto file_source_base<Format, T>::next_batch(std::stop_token stop) -> result<std::optional<batch<T>>> {
  return state_->reader.next_batch(std::move(stop));
}

template <class Format, class T>
auto file_source_base<Format, T>::seek(const position& pos) -> result<void> {
  return state_->reader.seek(pos);
}

}  // namespace pipeline::file::detail
