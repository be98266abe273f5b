// Workers on many machines: one producer process puts batches of orders on a Redis stream,
// any number of worker processes (started and stopped at any time, on any host that reaches
// Redis) price them and upsert them into a Redis hash; bad orders go to a dead-letter stream.
// run.sh starts one producer and N workers and checks that every order arrived exactly once.
//
//   redis_workers --role producer|worker|both|check [--redis URI] [--workers N] [--records N] [--queue NAME]
#include <pipeline/pipeline.hpp>
#include <pipeline/redis/redis.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>

namespace {

struct options {
  std::string role = "both";
  std::string redis = std::getenv("PIPELINE_REDIS_TEST_URI") != nullptr ? std::getenv("PIPELINE_REDIS_TEST_URI")
                                                                          : "redis://127.0.0.1:6379/0";
  std::size_t workers = 2;
  std::int64_t records = 100'000;
  std::string queue = "orders";
};

constexpr const char* usage = R"(usage: redis_workers [options]
  --role R      producer: read the orders and queue them; worker: process queued orders until
                the producer is done and the queue is drained; both: a producer and a worker in
                this process; check: verify every order is in the sink or the DLQ once (both)
  --redis URI   redis://[user:password@]host:port/db ($PIPELINE_REDIS_TEST_URI, else
                redis://127.0.0.1:6379/0)
  --workers N   worker threads in this process (2)
  --records N   orders the producer generates (100000); every 1000th is bad
  --queue NAME  the queue's name; its keys are {NAME}:... (orders)
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
  auto report = pipeline::redis::run_producer(orders, queue, dlq, checkpoints,
                                               {.name = o.queue + "/producer", .log = conn.log}, stop);
  fmt::print("producer: {}, {} orders queued\n", pipeline::to_string(report.status), report.written);
  return report.status == pipeline::run_status::completed ? 0 : 1;
}

auto worker(const options& o, const pipeline::redis::connection_options& conn, std::stop_token stop) -> int {
  const keys k{o.queue};
  auto consumer = pipeline::redis::stream_consumer::open(conn, {.stream = k.stream, .log = conn.log}).value();
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

auto check(const options& o, const pipeline::redis::connection_options& conn) -> int {
  const keys k{o.queue};
  auto c = pipeline::redis::client::connect(conn).value();
  const auto written = c->command({"HLEN", k.sink}).value().integer;
  const auto dead = c->command({"XLEN", k.dlq}).value().integer;
  const auto bad = o.records / 1000;
  const bool good = written == o.records - bad && dead == bad;
  fmt::print("check: {} orders in the sink, {} dead-lettered, of {}: {}\n", written, dead, o.records,
             good ? "every order exactly once" : "MISMATCH");
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
