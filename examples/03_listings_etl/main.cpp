// Messy real-estate listings -> validate -> warehouse, wired by hand from pipeline's core
// parts (the runner will do this wiring for you): a generator read in batches, a bounded
// queue to N workers (backpressure), per-record validation into a dead-letter queue, retry
// with backoff around a warehouse that has outages, a checkpoint that advances only to the
// watermark of finished batches, metrics and progress.
#include <pipeline/pipeline.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

struct listing {
  std::int64_t id = 0;
  std::string city;
  std::int64_t price_cents = 0;
  std::chrono::year_month_day listed_on{};
};

// CSV-ish input with about 1% bad rows: missing fields, unparsable prices, impossible dates.
auto raw_rows(std::int64_t count) -> pipeline::generator<std::string> {
  static constexpr const char* cities[] = {"Lisbon", "Porto", "Faro", "Braga", "Coimbra"};
  std::string row;
  for (std::int64_t id = 1; id <= count; ++id) {
    const auto city = cities[id % 5];
    if (id % 331 == 0) row = fmt::format("{},{},", id, city);                         // missing fields
    else if (id % 257 == 0) row = fmt::format("{},{},12O000,2024-05-01", id, city);  // letter O in a price
    else if (id % 199 == 0) row = fmt::format("{},{},99000,2024-02-30", id, city);   // no such day
    else row = fmt::format("{},{},{},2024-{:02}-{:02}", id, city, 50'000 + id % 900'000, 1 + id % 12, 1 + id % 28);
    co_yield row;
  }
}

auto parse_int(std::string_view text, std::string_view what) -> pipeline::result<std::int64_t> {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return pipeline::invalid_input_error(fmt::format("{} '{}' is not a number", what, text));
  }
  return v;
}

auto parse_listing(const std::string& row) -> pipeline::result<listing> {
  std::vector<std::string_view> f;
  for (std::size_t start = 0;;) {
    const auto comma = row.find(',', start);
    f.emplace_back(row.data() + start, (comma == std::string::npos ? row.size() : comma) - start);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (f.size() != 4) return pipeline::invalid_input_error(fmt::format("{} fields, expected 4", f.size()));
  auto id = parse_int(f[0], "id");
  auto price = parse_int(f[2], "price");
  if (!id) return id.error();
  if (!price) return price.error();
  if (f[3].size() != 10) return pipeline::invalid_input_error(fmt::format("date '{}' is not YYYY-MM-DD", f[3]));
  auto y = parse_int(f[3].substr(0, 4), "year");
  auto m = parse_int(f[3].substr(5, 2), "month");
  auto d = parse_int(f[3].substr(8, 2), "day");
  if (!y || !m || !d) return pipeline::invalid_input_error(fmt::format("date '{}' is not YYYY-MM-DD", f[3]));
  const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(*y)}, std::chrono::month{static_cast<unsigned>(*m)},
                                         std::chrono::day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return pipeline::invalid_input_error(fmt::format("date '{}' does not exist", f[3]));
  return listing{*id, std::string(f[1]), *price * 100, date};
}

// The checkpoint may only move to a position below which every batch is done, although
// workers finish batches out of order.
class watermark {
 public:
  // Returns the new watermark sequence, or nullopt if it did not move.
  auto finish(std::uint64_t sequence) -> std::optional<std::uint64_t> {
    std::scoped_lock lock{mutex_};
    done_.insert(sequence);
    std::optional<std::uint64_t> moved;
    while (!done_.empty() && *done_.begin() == next_) {
      done_.erase(done_.begin());
      moved = next_++;
    }
    return moved;
  }

 private:
  std::mutex mutex_;
  std::set<std::uint64_t> done_;
  std::uint64_t next_ = 0;
};

// "date '2024-02-30' does not exist" -> "date '...' does not exist": DLQ reasons grouped.
auto without_quoted_values(const std::string& message) -> std::string {
  std::string out;
  bool quoted = false;
  for (char c : message) {
    if (c == '\'') {
      out += quoted ? "...'" : "'";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return out;
}

struct options {
  std::int64_t rows = 200'000;
  unsigned workers = 2;
  std::size_t batch_size = 500;
};

auto parse_options(int argc, char** argv) -> std::optional<options> {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::int64_t { return i + 1 < argc ? std::atoll(argv[++i]) : 0; };
    if (arg == "--rows") o.rows = value();
    else if (arg == "--workers") o.workers = static_cast<unsigned>(value());
    else if (arg == "--batch") o.batch_size = static_cast<std::size_t>(value());
    else return std::nullopt;  // --help too: print the usage
  }
  if (o.rows < 0 || o.workers == 0 || o.batch_size == 0) return std::nullopt;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const auto opts = parse_options(argc, argv);
  if (!opts) {
    std::fputs("usage: listings_etl [--rows N (200000)] [--workers N (2)] [--batch N (500)]\n", stderr);
    return 2;
  }

  pipeline::metrics_registry metrics;
  auto& read = metrics.register_counter("pipeline_records_read_total", "Records read from the source");
  auto& written = metrics.register_counter("pipeline_records_written_total", "Records written to the sink");
  auto& dead = metrics.register_counter("pipeline_records_dead_lettered_total", "Records sent to the DLQ");
  auto& retried = metrics.register_counter("pipeline_batch_retries_total", "Sink writes retried");
  auto& depth = metrics.register_gauge("pipeline_queue_depth", "Batches waiting for a worker");

  pipeline::memory_sink<listing> warehouse;
  warehouse.fail_next_writes(3, pipeline::transient_error("warehouse: connection reset"));  // an outage
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::mpmc_queue<pipeline::batch<std::string>> queue{8};  // at most 8 batches in memory
  watermark committed;
  std::mutex checkpoint_mutex;
  std::map<std::uint64_t, pipeline::position> ends;  // batch sequence -> its end position
  std::uint64_t checkpoint_version = 0;
  const pipeline::backoff_options retry_policy{.initial = std::chrono::milliseconds{5}, .multiplier = 2.0,
                                               .max_delay = std::chrono::milliseconds{200},
                                               .jitter_mode = pipeline::jitter::full, .max_attempts = 6,
                                               .max_elapsed = std::chrono::milliseconds{0}};
  const auto started = std::chrono::steady_clock::now();
  std::stop_source stop_all;  // a batch that fails for good stops the run
  std::mutex failure_mutex;
  std::optional<pipeline::error> failure;

  std::jthread producer{[&] {
    std::uint64_t sequence = 0;
    std::int64_t offset = 0;
    for (auto& rows : raw_rows(opts->rows) | pipeline::batched(opts->batch_size)) {
      offset += static_cast<std::int64_t>(rows.size());
      pipeline::batch<std::string> b{std::move(rows), pipeline::position::from_integer(offset), {}, sequence++, 0};
      read.inc(b.records.size());
      {
        std::scoped_lock lock{checkpoint_mutex};
        ends.emplace(b.sequence, b.end);
      }
      // Blocks while the queue is full: memory stays at 8 batches whatever the input size.
      if (queue.push(std::move(b), stop_all.get_token()) != pipeline::push_status::pushed) return;
      depth.set(static_cast<double>(queue.size()));
    }
    queue.close();
  }};

  std::vector<std::jthread> workers;
  for (unsigned w = 0; w < opts->workers; ++w) {
    workers.emplace_back([&] {
      while (auto b = queue.pop(stop_all.get_token())) {
        std::vector<listing> good;
        std::vector<pipeline::dead_letter> bad;
        for (std::size_t i = 0; i < b->records.size(); ++i) {
          if (auto l = parse_listing(b->records[i])) good.push_back(std::move(*l));
          else bad.push_back({b->records[i], l.error(), 1, b->end, 0, std::chrono::system_clock::now()});
        }
        // A record is done once it is in the warehouse or the DLQ: both writes must succeed.
        auto stored = pipeline::retry([&] { return dlq.write(bad, {}); }, retry_policy, {});
        if (stored) {
          stored = pipeline::retry([&] { return warehouse.write(good, {}); }, retry_policy, {}, pipeline::steady_clock(),
                                   [&](const pipeline::error&, std::uint32_t, std::chrono::nanoseconds) { retried.inc(); });
        }
        if (!stored) {
          std::scoped_lock lock{failure_mutex};
          failure = stored.error();
          stop_all.request_stop();
          return;
        }
        written.inc(good.size());
        dead.inc(bad.size());
        if (auto mark = committed.finish(b->sequence)) {
          std::scoped_lock lock{checkpoint_mutex};
          checkpoint_version = checkpoints.save("listings", ends.at(*mark), checkpoint_version).value();
          ends.erase(ends.begin(), ends.upper_bound(*mark));
        }
      }
    });
  }

  pipeline::progress_meter meter{started, {.total = static_cast<std::uint64_t>(opts->rows), .initial_done = 0,
                                           .time_constant = std::chrono::seconds{2}}};
  while (written.value() + dead.value() < static_cast<std::uint64_t>(opts->rows) && !stop_all.stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    std::puts(pipeline::format_progress_line(meter.sample(written.value() + dead.value(), std::chrono::steady_clock::now())).c_str());
  }
  producer.join();
  workers.clear();
  if (failure) {
    fmt::print(stderr, "run failed: {}\n", *failure);
    return 1;
  }

  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::map<std::string, std::size_t> reasons;
  for (const auto& d : dlq.entries()) reasons[without_quoted_values(d.reason.message)]++;
  fmt::print("read {}  written {}  dead-lettered {}  retried writes {}  in {:.2f} s ({:.0f} records/s)\n", read.value(),
             written.value(), dead.value(), retried.value(), took.count(), static_cast<double>(read.value()) / took.count());
  for (const auto& [reason, n] : reasons) fmt::print("  DLQ {:>7}  {}\n", n, reason);
  fmt::print("checkpoint: after record {}\n", checkpoints.load("listings")->pos.bytes());
  const bool accounted = written.value() + dead.value() == read.value() &&
                         warehouse.records().size() == written.value() && dlq.entries().size() == dead.value();
  fmt::print("{}\n", accounted ? "every record accounted for: in the warehouse or the DLQ"
                               : "RECORDS LOST: the counts do not add up");
  return accounted ? 0 : 1;
}
