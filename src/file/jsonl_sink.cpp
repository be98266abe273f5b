#include <pipeline/file/jsonl_sink.hpp>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

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

  // Buffers `lines`, writing the buffer out once it is full; on failure nothing of them stays.
  auto append(const std::string& lines) -> result<void> {
    std::scoped_lock lock{mutex};
    const std::size_t before = buffer.size();
    buffer += lines;
    if (buffer.size() >= buffer_bytes) {
      if (auto drained = drain(); !drained) {
        buffer.resize(before);
        return drained;
      }
    }
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

namespace {

// Encodes `records` as lines into `lines`, outside any lock; the records that do not encode
// leave no bytes there and are returned, `invalid_input`, naming the record and field.
auto encode(std::span<const record> records, std::string& lines) -> std::vector<rejected_record> {
  std::vector<rejected_record> refused;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::size_t before = lines.size();
    if (auto encoded = detail::append_json_record(records[i], lines); !encoded) {
      lines.resize(before);
      refused.push_back({i, invalid_input_error(fmt::format("jsonl_sink: record {} of the batch: {}", i,
                                                            encoded.error().message))});
    }
  }
  return refused;
}

}  // namespace

auto jsonl_sink::write(std::span<const record> records, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  // Whole before anything is buffered: a bad record fails its batch and leaves no line of it.
  std::string lines;
  if (auto refused = encode(records, lines); !refused.empty()) return std::move(refused.front().reason);
  return impl_->append(lines);
}

auto jsonl_sink::write_each(std::span<const record> records, std::stop_token stop)
    -> result<std::vector<rejected_record>> {
  if (stop.stop_requested()) return stopped_error();
  std::string lines;
  auto refused = encode(records, lines);
  if (auto appended = impl_->append(lines); !appended) return std::move(appended).error();
  return refused;
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
