// Workers on many machines: one producer process puts batches of orders on a Redis stream,
// any number of worker processes (started and stopped at any time, on any host that reaches
// Redis) price them and upsert them into a Redis hash; bad orders go to a dead-letter stream.
// run.sh starts one producer and N workers and checks that every order arrived exactly once.
//
//   redis_workers --role producer|worker|both|check [--redis URI] [--workers N] [--records N] [--queue NAME]
//                 [--visibility-ms N]
#include <pipeline/pipeline.hpp>
#include <pipeline/redis/redis.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace {

struct options {
  std::string role = "both";
  std::string redis = std::getenv("PIPELINE_REDIS_TEST_URI") != nullptr ? std::getenv("PIPELINE_REDIS_TEST_URI")
                                                                          : "redis://127.0.0.1:6379/0";
  std::size_t workers = 2;
  std::int64_t records = 100'000;
  std::string queue = "orders";
  std::chrono::milliseconds visibility{30'000};
};

constexpr const char* usage = R"(usage: redis_workers [options]
  --role R      producer: read the orders and queue them; worker: process queued orders until
                the producer is done and the queue is drained; both: a producer and a worker in
                this process; check: verify that the sink holds exactly the good orders and the
                dead-letter stream exactly the bad ones, each once
  --redis URI   redis://[user:password@]host:port/db ($PIPELINE_REDIS_TEST_URI, else
                redis://127.0.0.1:6379/0)
  --workers N   worker threads in this process (2)
  --records N   orders the producer generates (100000); every 1000th is bad
  --queue NAME  the queue's name; its keys are {NAME}:... (orders)
  --visibility-ms N  a worker reclaims an entry another worker left pending this long (30000);
                the crash test shortens it so that a killed worker's entries come back soon
)";

auto parse(int argc, char** argv) -> std::optional<options> {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    std::optional<std::string> v;
    if (arg == "--help") return std::nullopt;
    if (!(v = value())) return std::nullopt;
    if (arg == "--role") o.role = *v;
    else if (arg == "--redis") o.redis = *v;
    else if (arg == "--workers") o.workers = std::stoul(*v);
    else if (arg == "--records") o.records = std::stoll(*v);
    else if (arg == "--queue") o.queue = *v;
    else if (arg == "--visibility-ms") o.visibility = std::chrono::milliseconds{std::stoll(*v)};
    else return std::nullopt;
  }
  if (o.role != "producer" && o.role != "worker" && o.role != "both" && o.role != "check") return std::nullopt;
  return o;
}

// The input: orders generated on the fly, resumable from the count already read.
class order_source {
 public:
  using value_type = pipeline::record;
  explicit order_source(std::int64_t total) : total_(total) {}

  auto next_batch(std::stop_token stop) -> pipeline::result<std::optional<pipeline::batch<pipeline::record>>> {
    if (stop.stop_requested()) return pipeline::stopped_error();
    if (next_ >= total_) return std::optional<pipeline::batch<pipeline::record>>{};
    pipeline::batch<pipeline::record> b;
    for (const auto end = std::min(total_, next_ + 500); next_ < end; ++next_) {
      const double amount = next_ % 1000 == 999 ? -1.0 : static_cast<double>(next_ % 97) + 0.5;
      b.records.push_back({{"id", next_}, {"customer", fmt::format("c{}", next_ % 1234)}, {"amount", amount}});
    }
    b.end = pipeline::position::from_integer(next_);
    return std::optional{std::move(b)};
  }
  auto seek(const pipeline::position& p) -> pipeline::result<void> {
    next_ = p.empty() ? 0 : p.to_integer().value_or(0);
    return pipeline::ok();
  }

 private:
  std::int64_t total_;
  std::int64_t next_ = 0;
};

// The sink: an upsert by order id into one Redis hash, so a redelivered batch changes nothing.
class order_sink {
 public:
  using value_type = pipeline::record;
  order_sink(std::shared_ptr<pipeline::redis::client> c, std::string key) : client_(std::move(c)), key_(std::move(key)) {}

  auto write(std::span<const pipeline::record> orders, std::stop_token) -> pipeline::result<void> {
    std::vector<std::string> command{"HSET", key_};
    for (const auto& o : orders) {
      command.push_back(std::to_string(o.find("id")->get<std::int64_t>()));
      command.push_back(fmt::format("{}", o));
    }
    auto r = client_->command(command);
    if (!r) return std::move(r).error();
    return pipeline::ok();
  }

 private:
  std::shared_ptr<pipeline::redis::client> client_;
  std::string key_;
};

// The work: price an order; a negative amount is the order's fault (dead-lettered).
auto price(const pipeline::record& order) -> pipeline::result<pipeline::record> {
  const double amount = order.find("amount")->get<double>();
  if (amount < 0) return pipeline::invalid_input_error(fmt::format("order amount {} is negative", amount));
  pipeline::record out = order;
  out.set("total", amount * 1.2);
  return out;
}

struct keys {
  explicit keys(const std::string& queue)
      : stream("{" + queue + "}:queue"), sink("{" + queue + "}:orders"), dlq("{" + queue + "}:dead"),
        prefix("{" + queue + "}") {}
  std::string stream, sink, dlq, prefix;
};

auto producer(const options& o, const pipeline::redis::connection_options& conn, std::stop_token stop) -> int {
  const keys k{o.queue};
  auto c = pipeline::redis::client::connect(conn).value();
  auto queue = pipeline::redis::stream_producer::open(c, {.stream = k.stream, .max_depth = 200, .log = conn.log}).value();
  pipeline::redis::dead_letter_stream dlq{c, {.stream = k.dlq}};
  pipeline::redis::checkpoint_store checkpoints{c, {.prefix = k.prefix}};
  order_source orders{o.records};
  // Tells how many worker processes the queue's depth calls for, as a deployment would ask.
  pipeline::autoscaler scaler{{.min_workers = 1, .max_workers = 16, .on_desired = {}}};
  std::jthread advisor{[&](std::stop_token done) {
    auto watch = pipeline::redis::client::connect(conn).value();
    auto view = pipeline::redis::stream_producer::open(watch, {.stream = k.stream, .log = {}}).value();
    for (std::size_t running = 1; !done.stop_requested(); std::this_thread::sleep_for(std::chrono::seconds{1})) {
      if (auto n = pipeline::redis::desired_workers(view, scaler, running); n && *n != running) {
        fmt::print("producer: queue depth calls for {} workers\n", *n);
        running = *n;
      }
    }
  }};
  pipeline::runner_options run_options;
  run_options.name = o.queue + "/producer";
  run_options.log = conn.log;
  // The stream's ledger: a producer restarted after a crash adds no batch twice, so no bad
  // order reaches the DLQ twice under two entries.
  run_options.exactly_once = true;
  auto report = pipeline::redis::run_producer(orders, queue, dlq, checkpoints, run_options, stop);
  fmt::print("producer: {}, {} orders queued\n", pipeline::to_string(report.status), report.written);
  return report.status == pipeline::run_status::completed ? 0 : 1;
}

auto worker(const options& o, const pipeline::redis::connection_options& conn, std::stop_token stop) -> int {
  const keys k{o.queue};
  auto consumer = pipeline::redis::stream_consumer::open(
      conn, {.stream = k.stream, .visibility_timeout = o.visibility, .log = conn.log}).value();
  auto c = pipeline::redis::client::connect(conn).value();
  order_sink sink{c, k.sink};
  pipeline::redis::dead_letter_stream dlq{c, {.stream = k.dlq}};
  auto report = pipeline::redis::run_worker<pipeline::record>(*consumer, price, sink, dlq,
                                                             {.name = o.queue + "/worker", .workers = o.workers,
                                                              .queue_capacity = o.workers, .log = conn.log},
                                                             stop);
  fmt::print("worker {}: {}, {} written, {} dead-lettered\n", consumer->options().consumer,
             pipeline::to_string(report.status), report.written, report.dead_lettered);
  return report.status == pipeline::run_status::completed ? 0 : 1;
}

// The id an order's dead letter holds: its payload is the order as `{id: 7, customer: ...}`.
auto order_id(const std::string& payload) -> std::optional<std::int64_t> {
  constexpr std::string_view prefix = "{id: ";
  if (payload.rfind(prefix, 0) != 0) return std::nullopt;
  std::int64_t id = 0;
  const auto* first = payload.data() + prefix.size();
  const auto [end, ec] = std::from_chars(first, payload.data() + payload.size(), id);
  if (ec != std::errc{} || end == first) return std::nullopt;
  return id;
}

// Up to 10 of `ids`, for a message.
auto some(const std::vector<std::int64_t>& ids) -> std::string {
  const auto n = std::min<std::size_t>(ids.size(), 10);
  return fmt::format("{}{}", fmt::join(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), " "),
                     ids.size() > n ? " ..." : "");
}

// Set equality, not counts: a duplicate of one order and a loss of another would leave the
// counts right. The sink is a hash keyed by order id (it cannot hold one twice), so it must
// hold exactly the good ids; the DLQ must hold one entry per bad id and nothing else.
auto check(const options& o, const pipeline::redis::connection_options& conn) -> int {
  const keys k{o.queue};
  auto c = pipeline::redis::client::connect(conn).value();
  std::vector<std::int64_t> missing_good, unexpected_in_sink, missing_bad, unexpected_in_dlq, twice_in_dlq;
  std::set<std::int64_t> in_sink;
  const auto fields = c->command({"HKEYS", k.sink}).value();
  for (const auto& field : fields.elements) in_sink.insert(std::stoll(field.str));
  std::map<std::int64_t, std::size_t> in_dlq;  // id -> entries
  std::size_t entries = 0, unreadable = 0;
  pipeline::redis::dead_letter_stream dlq{c, {.stream = k.dlq}};
  for (std::string after = "0-0";;) {
    const auto page = dlq.read(after, 1000).value();
    if (page.empty()) break;
    for (const auto& [id, letter] : page) {
      ++entries;
      if (const auto order = order_id(letter.payload)) ++in_dlq[*order];
      else ++unreadable;
    }
    after = page.back().first;
  }
  for (std::int64_t id = 0; id < o.records; ++id) {
    const bool bad = id % 1000 == 999;  // order_source's rule
    if (!bad && !in_sink.contains(id)) missing_good.push_back(id);
    if (bad && !in_dlq.contains(id)) missing_bad.push_back(id);
  }
  for (const auto id : in_sink) {
    if (id < 0 || id >= o.records || id % 1000 == 999) unexpected_in_sink.push_back(id);
  }
  for (const auto& [id, n] : in_dlq) {
    if (id < 0 || id >= o.records || id % 1000 != 999) unexpected_in_dlq.push_back(id);
    else if (n > 1) twice_in_dlq.push_back(id);
  }
  std::vector<std::int64_t> in_both;  // a record written and dead-lettered: never allowed
  for (const auto& [id, n] : in_dlq) {
    if (in_sink.contains(id)) in_both.push_back(id);
  }
  const auto bad = o.records / 1000;
  const bool sink_ok = missing_good.empty() && unexpected_in_sink.empty() && in_both.empty();
  const bool dlq_ok = missing_bad.empty() && unexpected_in_dlq.empty() && twice_in_dlq.empty() && unreadable == 0;
  fmt::print("check: sink {} orders, expected {} -> {}; DLQ {} entries for {} orders, expected {} -> {}; {} in both\n",
             in_sink.size(), o.records - bad, sink_ok ? "ok" : "WRONG", entries, in_dlq.size(), bad,
             dlq_ok ? "ok" : "WRONG", in_both.size());
  const auto list = [](std::string_view what, const std::vector<std::int64_t>& ids) {
    if (!ids.empty()) fmt::print("check: {} {}: {}\n", ids.size(), what, some(ids));
  };
  list("good orders missing from the sink", missing_good);
  list("bad orders in the sink", unexpected_in_sink);
  list("bad orders missing from the DLQ", missing_bad);
  list("good or unknown orders in the DLQ", unexpected_in_dlq);
  list("bad orders in the DLQ more than once", twice_in_dlq);
  list("orders in both the sink and the DLQ", in_both);
  if (unreadable > 0) fmt::print("check: {} DLQ entries without an order id\n", unreadable);
  if (!twice_in_dlq.empty()) {
    std::size_t extra = 0;
    for (const auto id : twice_in_dlq) extra += in_dlq[id] - 1;
    fmt::print("check: {} duplicate DLQ entries\n", extra);
  }
  const bool good = sink_ok && dlq_ok;
  fmt::print("check: {} orders: {}\n", o.records, good ? "every order exactly once" : "MISMATCH");
  return good ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  if (!o) {
    std::fputs(usage, stderr);
    return 2;
  }
  const pipeline::redis::connection_options conn{
      .uri = o->redis, .log = pipeline::logger{pipeline::stderr_log_callback(), pipeline::log_level::warn}};
  try {
    if (o->role == "producer") return producer(*o, conn, {});
    if (o->role == "worker") return worker(*o, conn, {});
    if (o->role == "check") return check(*o, conn);
    int produced = 0;
    std::jthread p{[&] { produced = producer(*o, conn, {}); }};
    const int worked = worker(*o, conn, {});
    p.join();
    return produced == 0 && worked == 0 ? 0 : 1;
  } catch (const std::exception& e) {  // .value() on a failed connect: say why and fail
    fmt::print(stderr, "redis_workers: {}\n", e.what());
    return 1;
  }
}
