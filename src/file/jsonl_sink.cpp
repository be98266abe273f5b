#include <pipeline/file/jsonl_sink.hpp>

#include <mutex>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "json_record.hpp"
#include "posix_io.hpp"

namespace pipeline::file {

struct jsonl_sink::impl {
  impl(detail::append_file f, std::size_t limit) : file(std::move(f)), buffer_bytes(limit), committed(file.size()) {}

  // Writes the buffer out (not synced); on failure the file and the buffer are unchanged.
  auto drain() -> result<void> {
    if (buffer.empty()) return ok();
    if (auto written = file.append(buffer, detail::append_file::durability::written); !written) return written;
    buffer.clear();
    return ok();
  }

  auto flush() -> result<void> {
    if (auto drained = drain(); !drained) return drained;
    if (auto synced = file.sync(); !synced) return synced;
    committed = file.size();
    return ok();
  }

  mutable std::mutex mutex;
  detail::append_file file;
  std::size_t buffer_bytes;
  std::string buffer;        // encoded lines not yet written to the file
  std::uint64_t committed;  // the file's size at the last fsync
};

auto jsonl_sink::open(jsonl_sink_options options) -> result<jsonl_sink> {
  if (options.path.empty()) throw std::invalid_argument("jsonl_sink: path is empty");
  auto file = detail::append_file::open(options.path, options.resume_offset);
  if (!file) return std::move(file).error();
  return jsonl_sink{std::make_unique<impl>(std::move(*file), options.buffer_bytes)};
}

jsonl_sink::jsonl_sink(std::unique_ptr<impl> state) noexcept : impl_(std::move(state)) {}
jsonl_sink::jsonl_sink(jsonl_sink&&) noexcept = default;
auto jsonl_sink::operator=(jsonl_sink&&) noexcept -> jsonl_sink& = default;

jsonl_sink::~jsonl_sink() {
  if (!impl_) return;  // moved from
  std::scoped_lock lock{impl_->mutex};
  (void)impl_->flush();
}

auto jsonl_sink::write(std::span<const record> records, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  // Encoded outside the lock, and whole before anything is buffered: a bad record fails its
  // batch and leaves no line of it behind.
  std::string lines;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (auto encoded = detail::append_json_record(records[i], lines); !encoded) {
      return invalid_input_error(fmt::format("jsonl_sink: record {} of the batch: {}", i, encoded.error().message));
    }
  }
  std::scoped_lock lock{impl_->mutex};
  const std::size_t before = impl_->buffer.size();
  impl_->buffer += lines;
  if (impl_->buffer.size() >= impl_->buffer_bytes) {
    if (auto drained = impl_->drain(); !drained) {
      impl_->buffer.resize(before);
      return drained;
    }
  }
  return ok();
}

auto jsonl_sink::flush(std::stop_token /*stop*/) -> result<void> {
  // Not cut short by a stop: the runner flushes on its way out, before the last checkpoint.
  std::scoped_lock lock{impl_->mutex};
  return impl_->flush();
}

auto jsonl_sink::committed_offset() const -> std::uint64_t {
  std::scoped_lock lock{impl_->mutex};
  return impl_->committed;
}

}  // namespace pipeline::file
