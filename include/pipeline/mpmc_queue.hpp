#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>

#include <pipeline/detail/chrono.hpp>
#include <pipeline/detail/event_count.hpp>
#include <pipeline/detail/spin_wait.hpp>
#include <pipeline/queue_status.hpp>

namespace pipeline {

/// How many items a bulk push or pop moved, and why it stopped there.
///
/// `count` items were moved: the first `count` of the span. `status` reads as for the
/// single-item call: a bulk push that took everything says `pushed` (or `dropped`), one that
/// stopped early says why (`full`, `closed`, `stopped`, or `dropped` for the items that
/// drop_newest discarded).
template <class Status>
struct bulk_result {
  std::size_t count = 0;
  Status status{};

  friend auto operator==(const bulk_result&, const bulk_result&) -> bool = default;
};

/// Bounded multi-producer multi-consumer queue: a lock-free ring that sleeps when it must wait.
///
/// Thread-safe; allocates only in the constructor; every operation is noexcept. `try_*` never
/// wait for room or items (under drop_oldest a push may briefly wait for a thread that is in
/// the middle of moving an item). Blocking calls spin for about a microsecond, yield for some
/// tens of microseconds, then sleep (futex) until there is room or an item, the queue is closed,
/// `stop` fires, or the deadline passes: an idle queue costs no CPU, and while nobody sleeps a
/// push or pop makes no system call and takes no lock. `stop` is checked on entry and while
/// waiting.
/// Push: `pushed`; `full` (try_/timed only, nothing dropped); `dropped` (drop_newest discarded
/// this item, or drop_oldest discarded the oldest queued one and took this one; counted in
/// `dropped()`); `closed` or `stopped` (the item was not taken and is destroyed). Pop: `popped`;
/// `empty` (try_/timed only); `closed` (closed and drained); `stopped`. After `close()`, pushes
/// report `closed`, pops drain what is left (every item whose push returned `pushed`), then
/// report `closed`; every waiter wakes. Items still queued at destruction are destroyed. FIFO:
/// two items pushed by one thread are popped in that order (by any one consumer).
///
///     pipeline::mpmc_queue<int> q{1024};
///     std::jthread consumer{[&q](std::stop_token stop) {
///       while (auto item = q.pop(stop)) use(*item);  // ends on closed (drained) or stopped
///     }};
///     if (q.push(42) != pipeline::push_status::pushed) { /* closed */ }
///     q.close();
template <class T>
class mpmc_queue {
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>,
                "mpmc_queue<T> needs a T that moves and destroys without throwing");

  using clock = std::chrono::steady_clock;

 public:
  using value_type = T;

  /// Throws std::invalid_argument when `capacity` is 0. Any capacity works; powers of two
  /// index the ring a little faster.
  explicit mpmc_queue(std::size_t capacity, overflow_policy policy = overflow_policy::block)
      : slots_(make_slots(capacity)),
        capacity_(capacity),
        mask_(capacity - 1),
        power_of_two_(std::has_single_bit(capacity)),
        policy_(policy) {}

  mpmc_queue(const mpmc_queue&) = delete;
  auto operator=(const mpmc_queue&) -> mpmc_queue& = delete;

  ~mpmc_queue() {
    const auto tail = tail_.load(std::memory_order_relaxed) & ~closed_bit;
    for (auto pos = head_.load(std::memory_order_relaxed); pos != tail; ++pos) std::destroy_at(slot_at(pos).item());
  }

  // --- single items -------------------------------------------------------------------------

  /// Pushes if there is room now; otherwise `full`, or what the overflow policy does.
  [[nodiscard]] auto try_push(T value) noexcept -> push_status { return push_one(value, no_wait, {}); }

  /// Waits for room (block policy) until it is pushed, the queue is closed or `stop` fires.
  [[nodiscard]] auto push(T value, std::stop_token stop = {}) noexcept -> push_status {
    return push_one(value, clock::time_point::max(), stop);
  }

  /// As `push`, giving up with `full` at `deadline`.
  [[nodiscard]] auto push_until(T value, clock::time_point deadline, std::stop_token stop = {}) noexcept
      -> push_status {
    return push_one(value, deadline, stop);
  }

  /// As `push_until`, `timeout` from now.
  template <class Rep, class Period>
  [[nodiscard]] auto push_for(T value, std::chrono::duration<Rep, Period> timeout, std::stop_token stop = {}) noexcept
      -> push_status {
    return push_until(std::move(value), deadline_after(timeout), std::move(stop));
  }

  /// Pops if an item is ready now; otherwise `empty`, or `closed` once closed and drained.
  [[nodiscard]] auto try_pop() noexcept -> pop_result<T> { return pop_one(no_wait, {}); }

  /// Waits for an item until one comes, the queue is closed and drained, or `stop` fires.
  [[nodiscard]] auto pop(std::stop_token stop = {}) noexcept -> pop_result<T> {
    return pop_one(clock::time_point::max(), stop);
  }

  /// As `pop`, giving up with `empty` at `deadline`.
  [[nodiscard]] auto pop_until(clock::time_point deadline, std::stop_token stop = {}) noexcept -> pop_result<T> {
    return pop_one(deadline, stop);
  }

  /// As `pop_until`, `timeout` from now.
  template <class Rep, class Period>
  [[nodiscard]] auto pop_for(std::chrono::duration<Rep, Period> timeout, std::stop_token stop = {}) noexcept
      -> pop_result<T> {
    return pop_one(deadline_after(timeout), stop);
  }

  // --- bulk: one CAS claims a run of slots, one wake-up call covers the run --------------------

  /// Moves in as many of `items` as fit now, in order; the rest stay in the span (drop_newest
  /// counts them as dropped; drop_oldest makes room for all of them).
  [[nodiscard]] auto try_push_bulk(std::span<T> items) noexcept -> bulk_result<push_status> {
    return push_items(items, no_wait, {});
  }

  /// Moves in all of `items`, in order, waiting for room as needed (block policy); on `closed`
  /// or `stopped`, `count` says how many went in before.
  [[nodiscard]] auto push_bulk(std::span<T> items, std::stop_token stop = {}) noexcept -> bulk_result<push_status> {
    return push_items(items, clock::time_point::max(), stop);
  }

  /// As `push_bulk`, giving up with `full` at `deadline`.
  [[nodiscard]] auto push_bulk_until(std::span<T> items, clock::time_point deadline, std::stop_token stop = {}) noexcept
      -> bulk_result<push_status> {
    return push_items(items, deadline, stop);
  }

  /// Move-assigns up to `out.size()` ready items, oldest first, into `out[0..count)`. An empty
  /// `out` gets `{0, empty}` at once, from every bulk pop.
  [[nodiscard]] auto try_pop_bulk(std::span<T> out) noexcept -> bulk_result<pop_status>
    requires std::is_nothrow_move_assignable_v<T>
  {
    return pop_into(out, no_wait, {});
  }

  /// Waits for at least one item, then takes what is ready, up to `out.size()`.
  [[nodiscard]] auto pop_bulk(std::span<T> out, std::stop_token stop = {}) noexcept -> bulk_result<pop_status>
    requires std::is_nothrow_move_assignable_v<T>
  {
    return pop_into(out, clock::time_point::max(), stop);
  }

  /// As `pop_bulk`, giving up with `empty` at `deadline`.
  [[nodiscard]] auto pop_bulk_until(std::span<T> out, clock::time_point deadline, std::stop_token stop = {}) noexcept
      -> bulk_result<pop_status>
    requires std::is_nothrow_move_assignable_v<T>
  {
    return pop_into(out, deadline, stop);
  }

  // --- state ---------------------------------------------------------------------------------

  /// Pushes from now on report `closed`; pops drain, then report `closed`. Idempotent.
  void close() noexcept {
    // seq_cst: waiters re-check the closed bit after announcing themselves (see event_count).
    if ((tail_.fetch_or(closed_bit, std::memory_order_seq_cst) & closed_bit) != 0) return;
    closed_.store(true, std::memory_order_release);
    not_empty_.notify(SIZE_MAX);
    not_full_.notify(SIZE_MAX);
  }

  [[nodiscard]] auto is_closed() const noexcept -> bool { return closed_.load(std::memory_order_acquire); }

  /// Items in the queue, approximate while others push and pop (for depth metrics).
  [[nodiscard]] auto size() const noexcept -> std::size_t {
    const auto head = head_.load(std::memory_order_relaxed);
    const auto tail = tail_.load(std::memory_order_relaxed) & ~closed_bit;
    if (tail <= head) return 0;
    const std::uint64_t depth = tail - head;
    // Not std::min: <algorithm> would cost every file that includes this header.
    return static_cast<std::size_t>(depth < capacity_ ? depth : capacity_);
  }

  [[nodiscard]] auto capacity() const noexcept -> std::size_t { return capacity_; }

  /// Items discarded by drop_newest or drop_oldest since construction.
  [[nodiscard]] auto dropped() const noexcept -> std::uint64_t { return dropped_.load(std::memory_order_relaxed); }

 private:
  // A slot's `seq` says whose turn it is, for a position `pos` that maps to it: 2*pos when it is
  // free for the push at pos, 2*pos+1 when it holds that push's item. The pop at pos sets it to
  // 2*(pos+capacity), freeing it for the next lap. (Vyukov's scheme, doubled so that "full for
  // pos" and "free for pos+capacity" differ even at capacity 1.)
  struct slot {
    std::atomic<std::uint64_t> seq{0};
    alignas(T) std::byte storage[sizeof(T)];

    auto place() noexcept -> void* { return storage; }
    auto item() noexcept -> T* { return std::launder(reinterpret_cast<T*>(storage)); }
  };

  // Positions [first, first + count) claimed by one CAS; count 0 when nothing was ready.
  struct run {
    std::uint64_t first = 0;
    std::size_t count = 0;
    bool closed = false;
  };

  // What a wait for room or items got: slots, with `pushed`/`popped` (`dropped` when
  // drop_oldest evicted for them), or none, with the reason.
  template <class Status>
  struct waited {
    run slots;
    Status status;
  };

  enum class wait_step : std::uint8_t { retry, timed_out, stopped };

  // Wakes this queue's sleepers of one side when a stop is requested.
  struct stop_waker {
    detail::event_count* sleepers;
    void operator()() const noexcept { sleepers->wake_all(); }
  };

  // The tail's top bit marks the queue closed, so that a push's claim (a CAS on the tail) fails
  // once close() has run: no item slips in after the consumers saw "closed and drained".
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;
  static constexpr auto no_wait = clock::time_point::min();
  // Two lines: the adjacent-line prefetcher pulls cache lines in pairs.
  static constexpr std::size_t apart = 128;

  static auto make_slots(std::size_t capacity) -> std::unique_ptr<slot[]> {
    if (capacity == 0) throw std::invalid_argument("pipeline::mpmc_queue: capacity must be at least 1");
    auto slots = std::make_unique<slot[]>(capacity);
    for (std::size_t i = 0; i < capacity; ++i) slots[i].seq.store(2 * i, std::memory_order_relaxed);
    return slots;
  }

  template <class Rep, class Period>
  static auto deadline_after(std::chrono::duration<Rep, Period> timeout) noexcept -> clock::time_point {
    using std::chrono::nanoseconds;
    const auto now = clock::now();
    if (timeout <= timeout.zero()) return now;
    if (std::chrono::duration<double>(timeout) >= std::chrono::duration<double>(nanoseconds::max())) {
      return clock::time_point::max();
    }
    return detail::saturating_add(now, std::chrono::ceil<nanoseconds>(timeout));
  }

  auto slot_at(std::uint64_t pos) noexcept -> slot& {
    return slots_[power_of_two_ ? pos & mask_ : pos % capacity_];
  }

  // Claims, with one CAS on `cursor`, the longest run (up to `max`) of positions whose slots are
  // ready: free for a push (`phase` 0) or holding an item for a pop (`phase` 1). Returns an
  // empty run when the first slot is not ready yet (full, or empty), or the tail is closed.
  auto claim(std::atomic<std::uint64_t>& cursor, std::size_t max, std::uint64_t phase) noexcept -> run {
    auto pos = cursor.load(std::memory_order_relaxed);
    for (;;) {
      if ((pos & closed_bit) != 0) return {pos, 0, true};
      std::size_t n = 0;
      std::uint64_t seq = 0;
      // acquire: what the previous owner of each slot did to it happens before our use.
      while (n < max && (seq = slot_at(pos + n).seq.load(std::memory_order_acquire)) == 2 * (pos + n) + phase) ++n;
      if (n == 0) {
        // Behind its turn: not ready. Ahead of it: another thread took `pos`; look again.
        if (static_cast<std::int64_t>(seq - (2 * pos + phase)) < 0) return {pos, 0, false};
        pos = cursor.load(std::memory_order_relaxed);
        continue;
      }
      // seq_cst: this is the "progress" half of the pairing described in event_count.
      if (cursor.compare_exchange_weak(pos, pos + n, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        return {pos, n, false};
      }
    }
  }

  // Moves `value` into the claimed slot at `pos` and publishes it.
  void put(std::uint64_t pos, T& value) noexcept {
    auto& s = slot_at(pos);
    ::new (s.place()) T(std::move(value));
    s.seq.store(2 * pos + 1, std::memory_order_release);
  }

  // Moves items into claimed slots, publishes each, and wakes as many sleeping consumers.
  void fill(run r, T* items) noexcept {
    for (std::size_t i = 0; i < r.count; ++i) put(r.first + i, items[i]);
    not_empty_.notify(r.count);
  }

  // Hands each claimed item to `take(index, item)`, destroys it, frees its slot for the next
  // lap, and wakes as many sleeping producers.
  template <class Take>
  void release(run r, Take take) noexcept {
    for (std::size_t i = 0; i < r.count; ++i) {
      const auto pos = r.first + i;
      auto& s = slot_at(pos);
      take(i, *s.item());
      vacate(s, pos);
    }
    not_full_.notify(r.count);
  }

  // Destroys the item at `pos` and frees its slot for the push one lap later.
  void vacate(slot& s, std::uint64_t pos) noexcept {
    std::destroy_at(s.item());
    s.seq.store(2 * (pos + capacity_), std::memory_order_release);
  }

  // Re-checked after prepare_wait(): seq_cst loads that pair with the other side's claim.
  auto full_now() const noexcept -> bool {
    const auto head = head_.load(std::memory_order_seq_cst);  // first, so that tail >= head
    const auto tail = tail_.load(std::memory_order_seq_cst);
    return (tail & closed_bit) == 0 && tail - head >= capacity_;
  }

  auto empty_now() const noexcept -> bool {
    const auto head = head_.load(std::memory_order_seq_cst);
    const auto tail = tail_.load(std::memory_order_seq_cst);
    return tail == head;  // a closed tail never equals a head: a closed queue does not block
  }

  // Closed, and every item claimed before that has been popped.
  auto drained() const noexcept -> bool {
    if (!closed_.load(std::memory_order_acquire)) return false;  // cheap filter; the bit decides
    const auto tail = tail_.load(std::memory_order_acquire) & ~closed_bit;
    return head_.load(std::memory_order_acquire) == tail;
  }

  // One step of waiting after a failed claim: spin, yield, then sleep on `sleepers` while
  // `blocked()` holds. `deadline` no_wait means try_: do not wait at all.
  template <class Blocked>
  static auto wait(detail::event_count& sleepers, detail::spin_wait& spin, Blocked blocked, clock::time_point deadline,
                   const std::stop_token& stop) noexcept -> wait_step {
    if (deadline == no_wait) return wait_step::timed_out;
    if (stop.stop_requested()) return wait_step::stopped;
    if (deadline != clock::time_point::max() && clock::now() >= deadline) return wait_step::timed_out;
    if (spin.pause()) return wait_step::retry;

    std::optional<std::stop_callback<stop_waker>> on_stop;
    if (stop.stop_possible()) on_stop.emplace(stop, stop_waker{&sleepers});
    const auto key = sleepers.prepare_wait();
    if (blocked() && !stop.stop_requested()) {
      sleepers.wait(key, deadline);
      spin.reset();
    } else {
      // Not blocked, yet the claim failed: another thread is mid-way through that slot.
      sleepers.cancel_wait();
      std::this_thread::yield();
    }
    return wait_step::retry;
  }

  // Removes up to `max` of the oldest items to make room (drop_oldest); returns how many.
  auto evict(std::size_t max) noexcept -> std::size_t {
    const auto r = claim(head_, max, 1);
    release(r, [](std::size_t, T&) noexcept {});
    dropped_.fetch_add(r.count, std::memory_order_relaxed);
    return r.count;
  }

  // The common case inline: room for one item at the first try. The slow path only claims,
  // never touching `value`, so that the compiler can keep the item in registers.
  auto push_one(T& value, clock::time_point deadline, const std::stop_token& stop) noexcept -> push_status {
    run r{};
    auto status = push_status::pushed;
    if (!stop.stop_requested()) r = claim(tail_, 1, 0);
    if (r.count == 0) [[unlikely]] {
      const auto got = wait_for_room(1, deadline, stop);
      if (got.slots.count == 0) return got.status;
      r = got.slots;
      status = got.status;
    }
    put(r.first, value);
    not_empty_.notify(1);
    return status;
  }

  auto push_items(std::span<T> items, clock::time_point deadline, const std::stop_token& stop) noexcept
      -> bulk_result<push_status> {
    bulk_result<push_status> result{0, push_status::pushed};
    while (result.count < items.size()) {
      const auto got = wait_for_room(items.size() - result.count, deadline, stop);
      if (got.slots.count == 0) return {result.count, got.status};
      if (got.status == push_status::dropped) result.status = push_status::dropped;
      fill(got.slots, items.data() + result.count);
      result.count += got.slots.count;
    }
    return result;
  }

  // Claims room for up to `max` items; when the queue is full, block waits (until `deadline`),
  // drop_newest counts the `max` items as dropped, drop_oldest evicts the oldest. Out of line,
  // so that the fast paths stay small enough to inline without spilling registers.
  [[gnu::noinline]] auto wait_for_room(std::size_t max, clock::time_point deadline, const std::stop_token& stop) noexcept
      -> waited<push_status> {
    if (stop.stop_requested()) return {{}, push_status::stopped};
    auto status = push_status::pushed;
    detail::spin_wait spin;
    for (;;) {
      const auto r = claim(tail_, max, 0);
      if (r.count != 0) return {r, status};
      if (r.closed) return {{}, push_status::closed};
      switch (policy_) {
        case overflow_policy::drop_newest:
          dropped_.fetch_add(max, std::memory_order_relaxed);
          return {{}, push_status::dropped};
        case overflow_policy::drop_oldest:
          if (evict(max) != 0) {
            status = push_status::dropped;
          } else if (!spin.pause()) {
            std::this_thread::yield();  // the queue is full but its oldest item is still being pushed
          }
          break;
        case overflow_policy::block:
          switch (wait(not_full_, spin, [this] { return full_now(); }, deadline, stop)) {
            case wait_step::retry: break;
            case wait_step::timed_out: return {{}, push_status::full};
            case wait_step::stopped: return {{}, push_status::stopped};
          }
          break;
      }
    }
  }

  // Claims up to `max` items, waiting until `deadline` for the first. Out of line, as above.
  [[gnu::noinline]] auto wait_for_items(std::size_t max, clock::time_point deadline, const std::stop_token& stop) noexcept
      -> waited<pop_status> {
    if (stop.stop_requested()) return {{}, pop_status::stopped};
    detail::spin_wait spin;
    for (;;) {
      const auto r = claim(head_, max, 1);
      if (r.count != 0) return {r, pop_status::popped};
      if (drained()) return {{}, pop_status::closed};
      switch (wait(not_empty_, spin, [this] { return empty_now(); }, deadline, stop)) {
        case wait_step::retry: break;
        case wait_step::timed_out: return {{}, pop_status::empty};
        case wait_step::stopped: return {{}, pop_status::stopped};
      }
    }
  }

  // The common case inline: an item ready at the first try.
  auto pop_one(clock::time_point deadline, const std::stop_token& stop) noexcept -> pop_result<T> {
    if (!stop.stop_requested()) {
      if (const auto r = claim(head_, 1, 1); r.count != 0) [[likely]] return take_one(r.first);
    }
    const auto got = wait_for_items(1, deadline, stop);
    if (got.slots.count == 0) return pop_result<T>{got.status};
    return take_one(got.slots.first);
  }

  auto take_one(std::uint64_t pos) noexcept -> pop_result<T> {
    auto& s = slot_at(pos);
    pop_result<T> out{std::move(*s.item())};
    vacate(s, pos);
    not_full_.notify(1);
    return out;
  }

  auto pop_into(std::span<T> out, clock::time_point deadline, const std::stop_token& stop) noexcept
      -> bulk_result<pop_status> {
    if (out.empty()) return {0, pop_status::empty};
    const auto got = wait_for_items(out.size(), deadline, stop);
    release(got.slots, [out](std::size_t i, T& item) noexcept { out[i] = std::move(item); });
    return {got.slots.count, got.status};
  }

  // Producers write tail_, consumers head_; each on its own lines, and apart from the
  // read-mostly fields below, which every operation reads.
  alignas(apart) std::atomic<std::uint64_t> tail_{0};  // next push position | closed_bit
  alignas(apart) std::atomic<std::uint64_t> head_{0};  // next pop position
  alignas(apart) detail::event_count not_empty_;       // consumers sleep here
  alignas(apart) detail::event_count not_full_;        // producers sleep here
  alignas(apart) std::atomic<std::uint64_t> dropped_{0};
  alignas(apart) std::unique_ptr<slot[]> slots_;
  std::size_t capacity_;
  std::uint64_t mask_;  // capacity - 1, used when the capacity is a power of two
  bool power_of_two_;
  overflow_policy policy_;
  std::atomic<bool> closed_{false};  // written once, by close(); read on every empty pop
};

}  // namespace pipeline
