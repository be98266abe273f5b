#include <pipeline/file/jsonl_sink.hpp>

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "json_record.hpp"
#include "posix_io.hpp"
#include "sink_ledger.hpp"
#include "store_files.hpp"

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

  // Writes the buffer out and makes the file durable; with a ledger, as far as a ledger line
  // says, by a group commit of its own.
  auto flush() -> result<void> {
    std::unique_lock lock{mutex};
    if (auto drained = drain(); !drained) return drained;
    if (!ledger) {
      if (auto synced = file.sync(); !synced) return synced;
      committed = file.size();
      return ok();
    }
    if (file.size() == committed && pending.empty()) return ok();
    waiter w{nullptr, file.size()};
    pending.push_back(&w);
    return await(lock, w);
  }

  // `lines` (the batch's records) and `entry`, or nothing: the data is appended now, and
  // committed by the next group commit (the data fsynced, then the ledger lines).
  auto commit(const std::string& lines, const committed_batch& entry) -> result<void> {
    std::unique_lock lock{mutex};
    auto held = ledger->holds(entry);
    if (!held) return std::move(held).error();
    if (*held) return ok();  // a retry of a commit that landed
    for (const auto* p : pending) {
      if (p->entry != nullptr && p->entry->job == entry.job && p->entry->run == entry.run &&
          p->entry->sequence == entry.sequence && p->entry->slice == entry.slice) {
        return conflict_error(fmt::format("jsonl_sink: batch {} (slice {}) of run {} of job '{}' is being committed "
                                          "by another call: another runner of this job is writing",
                                          entry.sequence, entry.slice, entry.run, entry.job));
      }
    }
    if (auto appended = file.append(lines, detail::append_file::durability::written); !appended) return appended;
    waiter w{&entry, file.size()};
    pending.push_back(&w);
    return await(lock, w);
  }

  // A commit (or a flush) waiting for its ledger line: `entry` (nullptr: a size line) and the
  // data file's size after its lines.
  struct waiter {
    const committed_batch* entry;
    std::uint64_t end;
    std::optional<result<void>> outcome{};
  };

  // Group commit: returns once `w` is committed or failed. With no round under way the caller
  // leads one for every waiter queued so far: one fsync of the data file, their ledger lines in
  // one write, one fsync of the ledger, all outside the lock (others go on appending, and queue
  // for the next round). A failed round fails its waiters and every one queued behind them, and
  // cuts the data file back to the last commit.
  auto await(std::unique_lock<std::mutex>& lock, waiter& w) -> result<void> {
    while (!w.outcome) {
      if (syncing) {
        round_done.wait(lock);
        continue;
      }
      syncing = true;
      const auto group = pending.size();
      std::string lines;
      for (std::size_t i = 0; i < group; ++i) lines += detail::sink_ledger::line(pending[i]->entry, pending[i]->end);
      lock.unlock();
      auto done = file.sync();
      if (done) done = ledger->write(lines);
      lock.lock();
      if (done) {
        for (std::size_t i = 0; i < group; ++i) {
          ledger->adopt(pending[i]->entry, pending[i]->end);
          pending[i]->outcome = ok();
        }
        committed = pending[group - 1]->end;
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(group));
        ledger->compact_if_due();
      } else {
        for (auto* p : pending) p->outcome = done;
        pending.clear();
        file.rewind(committed);  // the next append overwrites the rest; the next open cuts it off
      }
      syncing = false;
      round_done.notify_all();
    }
    return *w.outcome;
  }

  auto without_ledger() const -> result<void> {
    if (ledger) return ok();
    return invalid_input_error("jsonl_sink: exactly-once calls need a batch ledger: open with .ledger = true");
  }

  detail::unique_fd file_lock;  // the flock on <path>.lock, held while the sink lives (one sink per file)
  mutable std::mutex mutex;
  detail::append_file file;  // appended to under the mutex; a group commit's leader syncs it outside
  std::size_t buffer_bytes;
  std::string buffer;        // encoded lines not yet written to the file
  std::uint64_t committed;  // the file's size at the last fsync (with a ledger: the last ledger line)
  std::optional<detail::sink_ledger> ledger;  // its file written only by a round's leader
  std::vector<waiter*> pending;               // in the order of their data, the oldest first
  bool syncing = false;                       // a round is under way
  std::condition_variable round_done;
};

auto jsonl_sink::open(jsonl_sink_options options) -> result<jsonl_sink> {
  if (options.path.empty()) throw std::invalid_argument("jsonl_sink: path is empty");
  // One sink per file: opening cuts the file back, which would tear another sink's lines.
  auto lock_path = options.path;
  lock_path += ".lock";
  auto lock = detail::lock_exclusively(lock_path, detail::lock_wait::fail);
  if (!lock) return std::move(lock).error();
  auto made = open_locked(std::move(options));
  if (made) made->impl_->file_lock = std::move(*lock);
  return made;
}

auto jsonl_sink::open_locked(jsonl_sink_options options) -> result<jsonl_sink> {
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
  std::unique_lock lock{impl_->mutex};
  impl_->round_done.wait(lock, [&] { return !impl_->syncing; });  // the rewrite replaces the file a round writes
  return impl_->ledger->forget(job, run, sequence);
}

}  // namespace pipeline::file
