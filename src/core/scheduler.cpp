#include <pipeline/scheduler.hpp>

#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include <pipeline/detail/time_text.hpp>
#include <pipeline/job_log.hpp>

#include "lease_record.hpp"

namespace pipeline {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// The schedule's record is a lease_record of this kind whose one extra field is the newest due
// time run or skipped (ms since the epoch); a lease until 0 is one given back.
constexpr std::string_view record_kind = "schedule";

auto to_ms(schedule::time_point t) -> std::int64_t {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}
auto from_ms(std::int64_t ms) -> schedule::time_point { return schedule::time_point{milliseconds{ms}}; }
auto iso(std::int64_t ms) -> std::string { return detail::format_iso_time(from_ms(ms)); }

// One scheduler's `run`: the loop, the record it holds and the run in progress.
class schedule_loop {
 public:
  schedule_loop(const schedule& when, any_checkpoint_store& store, const scheduler_options& options,
                scheduler::job_function job, std::stop_token stop)
      : when_(when),
        store_(store),
        options_(options),
        job_(std::move(job)),
        stop_(std::move(stop)),
        key_(options.job + "#schedule"),
        token_(detail::next_lease_token()),
        random_(std::random_device{}()) {}
  schedule_loop(const schedule_loop&) = delete;
  auto operator=(const schedule_loop&) -> schedule_loop& = delete;
  ~schedule_loop() { detail::lease_dropped(token_); }

  auto run() -> scheduler_report {
    const auto started_ms = now_ms();
    bool published = false;
    while (!stop_.stop_requested()) {
      auto stored = store_.load(key_);
      if (!stored) {
        options_.log.warn("{}: reading the schedule failed: {}", options_.job, fmt::format("{}", stored.error()));
        if (!sleep_for(options_.poll_interval)) break;
        continue;
      }
      const auto record = detail::decode_lease(record_kind, stored->pos.bytes());
      if (!stored->pos.empty() && (!record || record->extra.size() != 1)) {
        options_.log.error("{}: '{}' in the checkpoint store is not a schedule record; not running", options_.job,
                           key_);
        if (!sleep_for(options_.poll_interval)) break;
        continue;
      }
      const auto now = now_ms();
      if (record) {
        const auto verdict = detail::judge_lease(*record, options_.lease.owner, now);
        if (verdict.live) {  // a run is going on somewhere: its holder deals with what it overlaps
          if (!sleep_for(options_.poll_interval)) break;
          continue;
        }
      }
      // Due times before the first scheduler ever started are owed to nobody.
      const auto last = record ? record->extra[0] : started_ms;
      const auto first = next_due(last);
      if (!published) published = publish_next(first);
      if (first > now) {
        if (!sleep_until(first + jitter_ms())) break;
        continue;
      }
      const auto [newest, count] = passed(first, now);
      // Missed: passed before this scheduler started (nothing was up to run it), or reached
      // more than missed_after late (a dead holder's lease was running out); and every due
      // time but the newest.
      const bool newest_missed = newest < started_ms || now - newest > options_.missed_after.count();
      auto target = newest;
      std::uint64_t skipped = count - 1;
      if (count > 1 || newest_missed) {
        switch (options_.when_missed) {
          case missed_policy::skip:
            if (newest_missed) {
              if (mark_done(newest, stored->version)) {
                report_.skipped += count;
                options_.log.info("{}: skipped {} missed due time(s), up to {}", options_.job, count, iso(newest));
                publish_next(next_due(newest));
              }
              continue;
            }
            break;
          case missed_policy::run_once:
            break;
          case missed_policy::run_each:
            target = first;
            skipped = 0;
            break;
        }
      }
      if (!claim(target, stored->version)) continue;
      if (record && record->until_ms != 0) {  // said once, by the taker, not at every look before
        options_.log.warn("{}: took the schedule over from {} ({}); its run of {} is not run again", options_.job,
                          record->owner,
                          detail::judge_lease(*record, options_.lease.owner, now).why, iso(record->extra[0]));
      }
      report_.skipped += skipped;
      run_held(target, skipped);
    }
    return report_;
  }

 private:
  // Runs `due` (the record is held), then the due times its run overlapped, by policy, and
  // gives the record back.
  void run_held(std::int64_t due, std::uint64_t skipped) {
    const auto claimed_at = now_ms();
    while (true) {
      run_one(due, skipped);
      if (lost_) break;
      const auto next = next_due(due);
      const auto now = now_ms();
      // Nothing overlapped; or the stop came; or due times older than this run are waiting,
      // for the missed policy to deal with in the main loop.
      if (next > now || stop_.stop_requested() || next <= claimed_at) {
        release(due);
        break;
      }
      const auto [newest, count] = passed(next, now);
      if (options_.on_overlap == overlap_policy::skip) {
        report_.skipped += count;
        options_.log.info("{}: skipped {} due time(s) up to {}: the run of {} was still going", options_.job, count,
                          iso(newest), iso(due));
        release(newest);
        break;
      }
      if (!write({options_.lease.owner, token_, now + lease_ms(), {newest}})) break;
      report_.skipped += count - 1;
      due = newest;
      skipped = count - 1;
    }
    detail::lease_dropped(token_);
    publish_next(next_due(last_written_));
  }

  void run_one(std::int64_t due, std::uint64_t skipped) {
    std::stop_source run_stop;
    std::stop_callback forward{stop_, [&run_stop] { run_stop.request_stop(); }};
    run_stop_ = &run_stop;
    begin_entry(due);
    const scheduled_run this_run{from_ms(due), skipped, entry_ ? entry_->id : 0};
    options_.log.info("{}: running the due time {}", options_.job, iso(due));
    run_state state = run_state::failed;
    std::string message;
    {
      std::jthread heartbeat{[this](std::stop_token beating) {
        while (steady_clock().sleep_for(options_.heartbeat_interval, beating)) renew();
      }};
      try {
        state = job_(this_run, run_stop.get_token());
      } catch (const std::exception& e) {
        message = e.what();
      } catch (...) {
        message = "an exception that is not a std::exception";
      }
    }  // joins the heartbeat
    ++report_.runs;
    if (state == run_state::failed) {
      ++report_.failed;
      options_.log.error("{}: the run of {} failed{}{}", options_.job, iso(due), message.empty() ? "" : ": ", message);
    }
    if (lost_) message = "the schedule's lease was taken over while it ran";
    end_entry(state, message.empty() ? fmt::format("due at {}", iso(due)) : message);
    run_stop_ = nullptr;
  }

  auto claim(std::int64_t due, std::uint64_t version) -> bool {
    std::scoped_lock lock{mutex_};
    version_ = version;
    lost_ = false;
    if (!write_locked({options_.lease.owner, token_, now_ms() + lease_ms(), {due}})) return false;
    detail::lease_held(token_);
    return true;
  }

  // A due time passed over without a run, while the record is not held.
  auto mark_done(std::int64_t due, std::uint64_t version) -> bool {
    std::scoped_lock lock{mutex_};
    version_ = version;
    return write_locked({options_.lease.owner, token_, 0, {due}});
  }

  void renew() {
    std::scoped_lock lock{mutex_};
    if (lost_) return;
    const auto until = now_ms() + lease_ms();
    // One try: the next heartbeat is the retry.
    const auto held = detail::encode_lease(record_kind, {options_.lease.owner, token_, until, {last_written_}});
    auto saved = store_.save(key_, held, version_);
    if (saved) {
      version_ = *saved;
    } else if (saved.error().kind == error_kind::conflict) {
      lost_ = true;
      options_.log.error("{}: the schedule was taken over while the run of {} went on (this process was not heard "
                         "from for longer than the lease); stopping the run",
                         options_.job, iso(last_written_));
      if (run_stop_ != nullptr) run_stop_->request_stop();
    } else {
      options_.log.warn("{}: renewing the schedule's lease failed: {}", options_.job, fmt::format("{}", saved.error()));
    }
    if (entry_ && options_.job_log != nullptr) {
      if (auto beat = heartbeat(*options_.job_log, *entry_, options_.lease, from_ms(now_ms())); !beat) {
        options_.log.warn("{}: job-log heartbeat failed: {}", options_.job, fmt::format("{}", beat.error()));
      }
    }
  }

  void release(std::int64_t last_due) {
    if (!write({options_.lease.owner, token_, 0, {last_due}})) {
      options_.log.warn("{}: giving the schedule back failed (it is taken over when its lease runs out)",
                        options_.job);
    }
  }

  auto write(const detail::lease_record& record) -> bool {
    std::scoped_lock lock{mutex_};
    return write_locked(record);
  }

  // Compare-and-set of the record at the version this loop last read or wrote.
  auto write_locked(const detail::lease_record& record) -> bool {
    auto saved = store_.save(key_, detail::encode_lease(record_kind, record), version_);
    if (!saved) {
      if (saved.error().kind == error_kind::conflict) {
        lost_ = lost_ || record.until_ms != 0;
      } else {
        options_.log.warn("{}: writing the schedule failed: {}", options_.job, fmt::format("{}", saved.error()));
      }
      return false;
    }
    version_ = *saved;
    last_written_ = record.extra.front();
    return true;
  }

  void begin_entry(std::int64_t due) {
    entry_.reset();
    if (options_.job_log == nullptr) return;
    auto begun = begin_run(*options_.job_log, options_.job, options_.lease, from_ms(now_ms()));
    if (!begun) {
      options_.log.warn("{}: recording the run of {} in the job log failed: {}", options_.job, iso(due),
                        fmt::format("{}", begun.error()));
      return;
    }
    std::scoped_lock lock{mutex_};
    entry_ = std::move(*begun);
    entry_->message = fmt::format("due at {}", iso(due));
    if (auto noted = options_.job_log->update(*entry_); !noted) {
      options_.log.warn("{}: job log: {}", options_.job, fmt::format("{}", noted.error()));
    }
  }

  void end_entry(run_state state, std::string message) {
    std::scoped_lock lock{mutex_};
    if (!entry_ || options_.job_log == nullptr) return;
    if (auto ended = finish_run(*options_.job_log, *entry_, state, std::move(message), from_ms(now_ms())); !ended) {
      options_.log.warn("{}: job log: {}", options_.job, fmt::format("{}", ended.error()));
    }
    entry_.reset();
  }

  // The next due time, as a pending run in the job log whose message says when.
  auto publish_next(std::int64_t due) -> bool {
    if (options_.job_log == nullptr) return true;
    auto pending = enqueue_run(*options_.job_log, options_.job, from_ms(now_ms()));
    if (pending) {
      pending->message = fmt::format("next run at {}", iso(due));
      if (auto noted = options_.job_log->update(*pending); noted) return true;
    }
    options_.log.warn("{}: job log: could not record the next run at {}", options_.job, iso(due));
    return false;
  }

  // The newest due time at or before `now`, from `first` (itself at or before it), and how many.
  [[nodiscard]] auto passed(std::int64_t first, std::int64_t now) const -> std::pair<std::int64_t, std::uint64_t> {
    std::uint64_t count = 1;
    for (auto next = next_due(first); next <= now; next = next_due(next)) {
      first = next;
      ++count;
    }
    return {first, count};
  }

  [[nodiscard]] auto next_due(std::int64_t after_ms) const -> std::int64_t {
    return to_ms(when_.next_after(from_ms(after_ms)));
  }

  [[nodiscard]] auto now_ms() const -> std::int64_t {
    if (options_.time == nullptr) return detail::wall_now_ms();
    return to_ms(options_.time_origin) +
           std::chrono::duration_cast<milliseconds>(options_.time->now() - clock::time_point{}).count();
  }

  [[nodiscard]] auto lease_ms() const -> std::int64_t {
    return std::chrono::duration_cast<milliseconds>(options_.lease.lease).count();
  }

  auto jitter_ms() -> std::int64_t {
    if (options_.jitter.count() <= 0) return 0;
    return std::uniform_int_distribution<std::int64_t>{0, options_.jitter.count()}(random_);
  }

  auto waiting_clock() const -> clock& { return options_.time != nullptr ? *options_.time : steady_clock(); }

  auto sleep_for(milliseconds d) -> bool { return waiting_clock().sleep_for(d, stop_); }

  // Waits in steps of at most a minute, so that a change of the system clock is seen.
  auto sleep_until(std::int64_t wall_ms) -> bool {
    for (auto now = now_ms(); now < wall_ms; now = now_ms()) {
      if (!sleep_for(milliseconds{std::min<std::int64_t>(wall_ms - now, 60'000)})) return false;
    }
    return !stop_.stop_requested();
  }

  const schedule& when_;
  any_checkpoint_store& store_;
  const scheduler_options& options_;
  scheduler::job_function job_;
  std::stop_token stop_;
  const std::string key_;
  const std::uint64_t token_;
  std::mt19937_64 random_;
  scheduler_report report_;
  std::mutex mutex_;  // guards version_, last_written_, lost_, entry_ against the heartbeat thread
  std::uint64_t version_ = 0;
  std::int64_t last_written_ = 0;  // the due time in the record as this loop last wrote it
  bool lost_ = false;              // the record was taken over while this loop held it
  std::optional<job_run> entry_;   // the run's job-log entry, while it runs
  std::stop_source* run_stop_ = nullptr;  // the running job's stop, for a lost lease
};

}  // namespace

scheduler::scheduler(schedule when, any_checkpoint_store& store, scheduler_options options)
    : when_(std::move(when)), store_(store), options_(std::move(options)) {
  auto bad = [](std::string_view field, std::string_view why) {
    return std::invalid_argument(fmt::format("scheduler_options::{}: {}", field, why));
  };
  if (options_.job.empty()) throw bad("job", "must not be empty");
  if (options_.lease.owner.empty()) throw bad("lease.owner", "must not be empty");
  if (options_.heartbeat_interval <= milliseconds{0}) throw bad("heartbeat_interval", "must be positive");
  if (options_.heartbeat_interval >= options_.lease.lease) {
    throw bad("heartbeat_interval", "must be shorter than the lease");
  }
  if (options_.poll_interval <= milliseconds{0}) throw bad("poll_interval", "must be positive");
  if (options_.jitter < milliseconds{0}) throw bad("jitter", "must not be negative");
  if (options_.missed_after < milliseconds{0}) throw bad("missed_after", "must not be negative");
}

auto scheduler::run_job(job_function job, std::stop_token stop) -> scheduler_report {
  schedule_loop loop{when_, store_, options_, std::move(job), std::move(stop)};
  return loop.run();
}

}  // namespace pipeline
