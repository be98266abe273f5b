#pragma once

// A user's own adapters, written against pipeline's interfaces: a sink that stores each note
// as one file named by its key (like an object store: writing the same key again replaces
// it, so the sink is idempotent), and a keyset source that reads the notes back in key
// order and resumes after the last key it handed out.

#include <pipeline/batch.hpp>
#include <pipeline/error.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/source.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "note.hpp"

namespace example {

// The one place native failures become pipeline's classification: what may pass if tried
// again is transient (the runner retries it), the rest is permanent (the runner isolates
// the record and dead-letters it).
inline auto from_errno(int err, const std::string& what) -> pipeline::error {
  const bool transient = err == EINTR || err == EAGAIN || err == EIO || err == ENOSPC || err == EDQUOT ||
                         err == EMFILE || err == ENFILE || err == EBUSY;
  return pipeline::error{transient ? pipeline::error_kind::transient : pipeline::error_kind::permanent,
                         what + ": " + std::strerror(err), err, "errno"};
}

// Keys become file names, so only a safe alphabet is accepted; anything else is the record's
// fault (invalid_input), never a path outside the directory.
inline auto check_key(const std::string& key) -> pipeline::result<void> {
  const bool ok = !key.empty() && key.size() <= 200 && key.front() != '.' &&
                  std::all_of(key.begin(), key.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '-' || c == '_' || c == '.';
                  });
  if (!ok) return pipeline::invalid_input_error("note key '" + key + "' is not [A-Za-z0-9._-]{1,200}");
  return pipeline::ok();
}

/// Stores each note as `<dir>/<key>`: written to a temporary file, fsynced, renamed.
/// Thread-safe: writers use distinct temporary files and rename is atomic.
class directory_sink {
 public:
  using value_type = note;

  explicit directory_sink(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
  }

  [[nodiscard]] auto write(std::span<const note> notes, std::stop_token stop) -> pipeline::result<void> {
    for (const auto& n : notes) {
      if (stop.stop_requested()) return pipeline::stopped_error();  // safe: each note is idempotent
      if (auto ok = check_key(n.key); !ok) return ok;
      if (auto ok = store(n); !ok) return ok;
    }
    return pipeline::ok();
  }

 private:
  auto store(const note& n) const -> pipeline::result<void> {
    std::ostringstream tmp_name;
    tmp_name << ".tmp-" << std::this_thread::get_id() << '-' << n.key;
    const auto tmp = dir_ / tmp_name.str();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return from_errno(errno, "open " + tmp.string());
    std::size_t done = 0;
    while (done < n.body.size()) {
      const auto w = ::write(fd, n.body.data() + done, n.body.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return from_errno(err, "write " + tmp.string());
      }
      done += static_cast<std::size_t>(w);
    }
    const bool synced = ::fsync(fd) == 0;
    const int sync_err = errno;
    ::close(fd);
    if (!synced) {
      ::unlink(tmp.c_str());
      return from_errno(sync_err, "fsync " + tmp.string());
    }
    if (::rename(tmp.c_str(), (dir_ / n.key).c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return from_errno(err, "rename to " + (dir_ / n.key).string());
    }
    return pipeline::ok();
  }

  std::filesystem::path dir_;
};

/// Reads the notes of a directory in key order, `batch_size` at a time. The position is the
/// last key handed out (keyset paging: resuming never re-reads or skips a note, even when
/// notes are added meanwhile). Not thread-safe, like every source.
class directory_source {
 public:
  using value_type = note;

  directory_source(std::filesystem::path dir, std::size_t batch_size) : dir_(std::move(dir)), batch_size_(batch_size) {}

  [[nodiscard]] auto next_batch(std::stop_token stop) -> pipeline::result<std::optional<pipeline::batch<note>>> {
    if (stop.stop_requested()) return pipeline::stopped_error();
    // One directory scan per batch keeps memory at one batch, whatever the directory holds.
    std::vector<std::string> keys;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
      auto key = entry.path().filename().string();
      if (key.front() == '.' || (last_key_ && key <= *last_key_)) continue;
      keys.push_back(std::move(key));
      std::push_heap(keys.begin(), keys.end());
      if (keys.size() > batch_size_) {
        std::pop_heap(keys.begin(), keys.end());
        keys.pop_back();
      }
    }
    if (ec) return from_errno(ec.value(), "list " + dir_.string());
    if (keys.empty()) return std::optional<pipeline::batch<note>>{};
    std::sort(keys.begin(), keys.end());
    pipeline::batch<note> out;
    for (auto& key : keys) {
      std::ifstream in(dir_ / key, std::ios::binary);
      if (!in) return from_errno(errno, "open " + (dir_ / key).string());
      out.records.push_back(note{key, std::string(std::istreambuf_iterator<char>(in), {})});
    }
    last_key_ = keys.back();
    out.end = pipeline::position{*last_key_};
    return std::optional<pipeline::batch<note>>{std::move(out)};
  }

  [[nodiscard]] auto seek(const pipeline::position& pos) -> pipeline::result<void> {
    if (pos.empty()) {
      last_key_.reset();
      return pipeline::ok();
    }
    if (auto ok = check_key(pos.bytes()); !ok) return ok;
    last_key_ = pos.bytes();
    return pipeline::ok();
  }

 private:
  std::filesystem::path dir_;
  std::size_t batch_size_;
  std::optional<std::string> last_key_;
};

static_assert(pipeline::sink<directory_sink>);
static_assert(pipeline::seekable_source<directory_source>);

}  // namespace example
