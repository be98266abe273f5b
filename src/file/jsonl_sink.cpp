#include <pipeline/file/jsonl_sink.hpp>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "json_record.hpp"
#include "posix_io.hpp"
#include "sink_ledger.hpp"

namespace pipeline::file {

struct jsonl_sink::impl {
  impl(detail::append_file f, std::size_t limit, std::optional<detail::sink_ledger> l)
      : file(std::move(f)), buffer_bytes(limit), committed(file.size()), ledger(std::move(l)) {}

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
    // With a ledger, what the file holds is committed once a ledger line says so.
    if (ledger && file.size() != committed) {
      if (auto recorded = ledger->append_size(file.size()); !recorded) return recorded;
    }
    committed = file.size();
    return ok();
  }

  // `lines` (the batch's records) and `entry`, or nothing: the data first, fsynced, then the
  // ledger line that commits it.
  auto commit(const std::string& lines, const committed_batch& entry) -> result<void> {
    std::scoped_lock lock{mutex};
    auto held = ledger->holds(entry);
    if (!held) return std::move(held).error();
    if (*held) return ok();  // a retry of a commit that landed
    const auto before = file.size();
    // An empty batch (all of it dead-lettered) has nothing to sync, unless plain writes do.
    if (!lines.empty() || before != committed) {
      if (auto appended = file.append(lines, detail::append_file::durability::synced); !appended) return appended;
    }
    if (auto recorded = ledger->append(entry, file.size()); !recorded) {
      file.rewind(before);  // the next append overwrites them; the next open cuts them off
      return recorded;
    }
    committed = file.size();
    return ok();
  }

  auto without_ledger() const -> result<void> {
    if (ledger) return ok();
    return invalid_input_error("jsonl_sink: exactly-once calls need a batch ledger: open with .ledger = true");
  }

  mutable std::mutex mutex;
  detail::append_file file;
  std::size_t buffer_bytes;
  std::string buffer;        // encoded lines not yet written to the file
  std::uint64_t committed;  // the file's size at the last fsync (with a ledger: the last ledger line)
  std::optional<detail::sink_ledger> ledger;
};

auto jsonl_sink::open(jsonl_sink_options options) -> result<jsonl_sink> {
  if (options.path.empty()) throw std::invalid_argument("jsonl_sink: path is empty");
  if (!options.ledger) {
    auto file = detail::append_file::open(options.path, options.resume_offset);
    if (!file) return std::move(file).error();
    return jsonl_sink{std::make_unique<impl>(std::move(*file), options.buffer_bytes, std::nullopt)};
  }
  if (options.resume_offset) {
    throw std::invalid_argument(
        "jsonl_sink: resume_offset and ledger both given (the ledger keeps the committed size)");
  }
  auto ledger_path = options.path;
  ledger_path += ".ledger";
  auto ledger = detail::sink_ledger::open(std::move(ledger_path));
  if (!ledger) return std::move(ledger).error();
  // Cut back to what the ledger committed: the lines of a batch whose ledger line never landed.
  auto file = detail::append_file::open(options.path, ledger->committed_size());
  if (!file) return std::move(file).error();
  if (!ledger->committed_size()) {
    if (auto started = ledger->start(file->size()); !started) return std::move(started).error();
  }
  return jsonl_sink{std::make_unique<impl>(std::move(*file), options.buffer_bytes, std::move(*ledger))};
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


auto jsonl_sink::is_transactional() const noexcept -> bool { return impl_->ledger.has_value(); }

auto jsonl_sink::write_committed(std::span<const record> records, const committed_batch& entry, std::stop_token stop)
    -> result<void> {
  if (auto usable = impl_->without_ledger(); !usable) return usable;
  if (stop.stop_requested()) return stopped_error();
  std::string lines;
  if (auto refused = encode(records, lines); !refused.empty()) return std::move(refused.front().reason);
  return impl_->commit(lines, entry);
}

auto jsonl_sink::committed_batches(std::string_view job, std::stop_token /*stop*/)
    -> result<std::vector<committed_batch>> {
  if (auto usable = impl_->without_ledger(); !usable) return std::move(usable).error();
  std::scoped_lock lock{impl_->mutex};
  return impl_->ledger->entries(job);
}

auto jsonl_sink::forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence,
                                std::stop_token /*stop*/) -> result<void> {
  // Not cut short by a stop: the runner forgets on its way out, after its last checkpoint.
  if (auto usable = impl_->without_ledger(); !usable) return usable;
  std::scoped_lock lock{impl_->mutex};
  return impl_->ledger->forget(job, run, sequence);
}

}  // namespace pipeline::file
