// The distributed queue end to end on real servers: producer and worker roles in threads and
// in processes, bad entries, poison batches, a worker killed mid-batch and a server restart.
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/redis/redis.hpp>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <numeric>
#include <string_view>
#include <thread>
#include <vector>

#include "redis/hash_sink.hpp"
#include "redis/queue_test_support.hpp"
#include "redis/redis_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace pipeline::redis;
using pipeline::record;
using namespace redis_test::queue;

// A queue that a test fills by hand: its names, a client, a producer and a sink onto it.
struct hand_fed_queue {
  explicit hand_fed_queue(stream_options producer_options = {})
      : producer(stream_producer::open(c, named(std::move(producer_options))).value()) {}
  auto named(stream_options o) const -> stream_options {
    o.stream = names.stream;
    return o;
  }
  queue_names names;
  std::string uri = redis_test::suite_uri();
  std::shared_ptr<client> c = redis_test::connect(uri);
  stream_producer producer;
  stream_sink<record> to_queue{producer};
};

TEST(redis_queue, a_producer_and_two_workers_move_every_record_once) {
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  auto produced = produce(uri, names, 2000, 50);
  ASSERT_EQ(produced.status, pipeline::run_status::completed) << fmt::format("{}", *produced.failure);
  EXPECT_EQ(produced.written, 2000u);

  std::vector<pipeline::run_report> reports(2);
  {
    std::vector<std::jthread> workers;
    for (auto& report : reports) {
      workers.emplace_back([&] {
        auto consumer = stream_consumer::open({.uri = uri}, {.stream = names.stream, .block = 100ms}).value();
        redis_test::hash_sink sink{redis_test::connect(uri), names.sink};
        pipeline::memory_dlq dlq;
        report = run_worker<record>(*consumer, pipeline::identity{}, sink, dlq, {.name = "w", .workers = 2});
      });
    }
  }
  for (auto& r : reports) EXPECT_EQ(r.status, pipeline::run_status::completed);
  EXPECT_EQ(reports[0].written + reports[1].written, 2000u);
  redis_test::hash_sink sink{redis_test::connect(uri), names.sink};
  EXPECT_EQ(sorted(sink.ids()), all_ids(2000));
  auto c = redis_test::connect(uri);
  auto consumer = stream_consumer::open({.uri = uri}, {.stream = names.stream}).value();
  EXPECT_EQ(consumer->depth().value().total(), 0u);
  ASSERT_TRUE(consumer->trim());
  EXPECT_EQ(c->command({"XLEN", names.stream}).value().integer, 0) << "acknowledged entries are trimmed";
}

TEST(redis_queue, records_per_entry_splits_a_batch_into_entries_added_in_one_round_trip) {
  hand_fed_queue q{{.records_per_entry = 3}};
  auto& [names, uri, c, producer, to_queue] = q;
  ASSERT_TRUE(to_queue.write(records(10), {}));
  ASSERT_TRUE(producer.close());
  EXPECT_EQ(c->command({"XLEN", names.stream}).value().integer, 4);  // 3 + 3 + 3 + 1
  auto consumer = stream_consumer::open({.uri = uri}, {.stream = names.stream, .block = 50ms}).value();
  redis_test::hash_sink sink{c, names.sink};
  pipeline::memory_dlq dlq;
  auto report = run_worker<record>(*consumer, pipeline::identity{}, sink, dlq, {.name = "w", .workers = 1});
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(sink.ids()), all_ids(10));
}

TEST(redis_queue, trimming_never_removes_pending_or_undelivered_entries) {
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  auto c = redis_test::connect(uri);
  auto producer = stream_producer::open(c, {.stream = names.stream}).value();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(producer.add(std::to_string(i), {}));
  auto consumer = stream_consumer::open({.uri = uri}, {.stream = names.stream, .read_count = 2}).value();
  auto first = consumer->read({}).value().value();    // entries 0, 1
  auto second = consumer->read({}).value().value();   // entries 2, 3
  const auto n1 = consumer->track({first[0].id, first[1].id});
  (void)consumer->track({second[0].id, second[1].id});
  ASSERT_TRUE(consumer->ack_through(n1));  // 0 and 1 acknowledged; 2, 3 pending; 4, 5 undelivered
  ASSERT_TRUE(consumer->trim());
  EXPECT_EQ(c->command({"XLEN", names.stream}).value().integer, 4);
  auto d = consumer->depth().value();
  EXPECT_EQ(d.pending, 2u);
  EXPECT_EQ(d.lag, 2u);
}

TEST(redis_queue, records_kept_beside_the_checkpoint_acknowledge_nothing) {
  // The runner keeps its records-done count under "<key>#records-done": in the stream's acks
  // store that must neither conflict with the acknowledgements nor acknowledge anything.
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  auto c = redis_test::connect(uri);
  auto producer = stream_producer::open(c, {.stream = names.stream}).value();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(producer.add(std::to_string(i), {}));
  auto consumer = stream_consumer::open({.uri = uri}, {.stream = names.stream, .read_count = 2}).value();
  auto first = consumer->read({}).value().value();
  auto second = consumer->read({}).value().value();
  const auto n1 = consumer->track({first[0].id, first[1].id});
  (void)consumer->track({second[0].id, second[1].id});
  stream_acks acks{*consumer};
  ASSERT_EQ(acks.save("w", pipeline::position::from_integer(static_cast<std::int64_t>(n1)), 0).value(), 1u);
  // A count of 2 read as an acknowledgement number would acknowledge the second read too.
  ASSERT_EQ(acks.save("w#records-done", pipeline::position::from_integer(2), 0).value(), 1u);
  EXPECT_EQ(acks.save("w#records-done", pipeline::position::from_integer(4), 1).value(), 2u);
  EXPECT_EQ(acks.load("w#records-done").value(), (pipeline::checkpoint{pipeline::position::from_integer(4), 2}));
  EXPECT_EQ(acks.load("w").value().version, 1u);
  EXPECT_EQ(consumer->depth().value().pending, 2u);  // only the first read is acknowledged
}

TEST(redis_queue, entries_that_do_not_decode_are_dead_lettered_and_the_rest_flows) {
  hand_fed_queue q;
  auto& [names, uri, c, producer, to_queue] = q;
  auto good = records(3);
  ASSERT_TRUE(to_queue.write(good, {}));
  std::string bad_record;
  pipeline::detail::frame_append(bad_record, "not a record");
  ASSERT_TRUE(producer.add(bad_record, {}));
  ASSERT_TRUE(producer.add("\xff\xff\xff", {}));  // a length running past the end
  ASSERT_TRUE(c->command({"XADD", names.stream, "*", "other", "field"}));
  ASSERT_TRUE(producer.close());

  auto consumer = stream_consumer::open({.uri = uri}, {.stream = names.stream, .block = 100ms}).value();
  redis_test::hash_sink sink{c, names.sink};
  pipeline::memory_dlq dlq;
  auto report = run_worker<record>(*consumer, pipeline::identity{}, sink, dlq, {.name = "w", .workers = 1});
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sink.size(), 3);
  auto letters = dlq.entries();
  ASSERT_EQ(letters.size(), 3u);
  for (auto& l : letters) EXPECT_EQ(l.reason.kind, pipeline::error_kind::invalid_input) << l.reason.message;
  EXPECT_EQ(consumer->depth().value().total(), 0u) << "dead-lettered entries are acknowledged";
}

TEST(redis_queue, an_entry_delivered_more_than_max_deliveries_is_dead_lettered_then_acknowledged) {
  hand_fed_queue q;
  auto& [names, uri, c, producer, to_queue] = q;
  auto poison = records(1);
  ASSERT_TRUE(to_queue.write(poison, {}));
  const stream_options options{.stream = names.stream, .block = 50ms, .visibility_timeout = 100ms, .max_deliveries = 2};
  // Two workers take the entry and die without acknowledging it.
  for (int i = 0; i < 2; ++i) {
    auto crashing = stream_consumer::open({.uri = uri}, options).value();
    auto got = crashing->read({}).value();
    ASSERT_TRUE(got && got->size() == 1);
    EXPECT_EQ(got->front().deliveries, static_cast<std::uint64_t>(i + 1));
    std::this_thread::sleep_for(150ms);
  }
  auto more = records(5);
  ASSERT_TRUE(to_queue.write(std::span{more}.subspan(1), {}));  // the queue keeps flowing
  ASSERT_TRUE(producer.close());
  auto consumer = stream_consumer::open({.uri = uri}, options).value();
  redis_test::hash_sink sink{c, names.sink};
  dead_letter_stream dlq{c, {.stream = names.dlq}};
  auto report = run_worker<record>(*consumer, pipeline::identity{}, sink, dlq, {.name = "w", .workers = 1});
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(sink.ids()), (std::vector<std::int64_t>{1, 2, 3, 4}));
  auto letters = dlq.read("0-0", 10).value();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].second.attempts, 3u);
  EXPECT_NE(letters[0].second.reason.message.find("delivered 3 times"), std::string::npos) << letters[0].second.reason.message;
  EXPECT_EQ(consumer->depth().value().total(), 0u);
}

TEST(redis_queue, a_reclaimed_entry_of_several_records_is_split_into_one_entry_per_record) {
  hand_fed_queue q;
  auto& [names, uri, c, producer, to_queue] = q;
  ASSERT_TRUE(to_queue.write(records(3), {}));
  ASSERT_TRUE(producer.close());
  const stream_options options{.stream = names.stream, .block = 50ms, .visibility_timeout = 100ms};
  std::string original;
  {
    auto crashing = stream_consumer::open({.uri = uri}, options).value();
    auto got = crashing->read({}).value();
    ASSERT_TRUE(got && got->size() == 1);
    original = got->front().id;
  }
  std::this_thread::sleep_for(150ms);
  auto consumer = stream_consumer::open({.uri = uri}, options).value();
  auto got = consumer->read({}).value();
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u) << "three entries of one record, read as new ones";
  for (std::size_t i = 0; i < got->size(); ++i) {
    const auto& e = (*got)[i];
    EXPECT_NE(e.id, original);
    EXPECT_EQ(e.deliveries, 1u);
    pipeline::detail::frame_reader frame{e.frame};
    auto bytes = frame.next();
    ASSERT_TRUE(bytes);
    EXPECT_EQ(pipeline::record_codec{}.decode(*bytes).value().find("id")->get<std::int64_t>(), static_cast<std::int64_t>(i));
    EXPECT_FALSE(frame.next()) << "one record per entry";
  }
  auto pending = c->command({"XPENDING", names.stream, "workers", "-", "+", "10"}).value();
  ASSERT_EQ(pending.elements.size(), 3u) << "the original is acknowledged, its records pending as new entries";
  for (const auto& row : pending.elements) EXPECT_NE(row.elements[0].str, original);
}

// A queue of one entry (records 0, 1, 2), closed, whose first worker dies right after its DLQ
// write, before its checkpoint acknowledges the entry (a checkpoint store that acknowledges
// nothing, and a stop): the entry comes back to the next worker after the visibility timeout.
struct entry_that_comes_back : hand_fed_queue {
  entry_that_comes_back() {
    EXPECT_TRUE(to_queue.write(records(3), {}));
    EXPECT_TRUE(producer.close());
  }
  template <class Transform>
  auto first_worker_dies_after_dead_lettering(Transform transform, pipeline::runner_options run_options)
      -> pipeline::run_report {
    auto crashing = stream_consumer::open({.uri = uri}, options).value();
    stream_source<record> source{*crashing};
    pipeline::memory_checkpoint_store never_acknowledges;
    std::stop_source stop;
    struct stop_after_write {
      dead_letter_stream& dlq;
      std::stop_source& stop;
      auto write(std::span<const pipeline::dead_letter> letters, std::stop_token token) -> pipeline::result<void> {
        auto written = dlq.write(letters, token);
        stop.request_stop();
        return written;
      }
    } dies{dlq, stop};
    return pipeline::run(source, transform, sink, dies, never_acknowledges, run_options, stop.get_token());
  }
  template <class Transform>
  auto next_worker(Transform transform) -> pipeline::run_report {
    std::this_thread::sleep_for(150ms);
    auto consumer = stream_consumer::open({.uri = uri}, options).value();
    return run_worker<record>(*consumer, transform, sink, dlq, {.name = "w", .workers = 1});
  }
  stream_options options{.stream = names.stream, .block = 50ms, .visibility_timeout = 100ms};
  redis_test::hash_sink sink{c, names.sink};
  dead_letter_stream dlq{c, {.stream = names.dlq}};
};

// A worker that dead-lettered a record and died before acknowledging its entry: the entry
// is reclaimed and split into one entry per record. The next worker finds the record's letter
// in the DLQ (one identity both times, or the DLQ would store it twice: the redis_workers
// chaos test once found 303 entries for 300 bad orders) and leaves the record out.
TEST(redis_queue, a_record_dead_lettered_before_a_crash_and_after_the_reclaim_is_stored_once) {
  entry_that_comes_back q;
  const auto reject_1 = [](const record& r) -> pipeline::result<record> {
    if (r.find("id")->get<std::int64_t>() == 1) return pipeline::invalid_input_error("record 1 is bad");
    return r;
  };
  ASSERT_EQ(q.first_worker_dies_after_dead_lettering(reject_1, {.name = "w", .workers = 1}).status,
            pipeline::run_status::stopped);
  ASSERT_EQ(q.dlq.size().value(), 1u);
  auto report = q.next_worker(reject_1);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.dead_lettered, 0u) << "the DLQ holds the record's letter: it is left out, not handled again";
  EXPECT_EQ(sorted(q.sink.ids()), (std::vector<std::int64_t>{0, 2}));
  auto letters = q.dlq.read("0-0", 10).value();
  ASSERT_EQ(letters.size(), 1u) << "the letter written again after the crash is the same letter";
  EXPECT_TRUE(letters[0].second.pos.bytes().ends_with("#1")) << "the record's origin: " << letters[0].second.pos.bytes();
}

// The user's outage: a record dead-lettered as transient (the sink was down and the policy
// said dead_letter), and its entry not acknowledged (the worker died, or its XACK failed);
// the entry comes back once the sink works. The record must not be written as well.
TEST(redis_queue, a_dead_lettered_record_whose_entry_comes_back_is_not_written_to_the_sink_too) {
  entry_that_comes_back q;
  const auto sink_down_for_1 = [](const record& r) -> pipeline::result<record> {
    if (r.find("id")->get<std::int64_t>() == 1) return pipeline::transient_error("sink: connection refused");
    return r;
  };
  auto first = q.first_worker_dies_after_dead_lettering(
      sink_down_for_1, {.name = "w", .workers = 1, .retry = {.max_attempts = 1},
                        .when_retries_exhausted = pipeline::exhausted_policy::dead_letter});
  ASSERT_EQ(first.status, pipeline::run_status::stopped);
  ASSERT_EQ(q.dlq.size().value(), 1u);
  auto report = q.next_worker([](const record& r) -> pipeline::result<record> { return r; });
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(q.sink.ids()), (std::vector<std::int64_t>{0, 2})) << "record 1 is in the DLQ: not in the sink too";
  EXPECT_EQ(q.dlq.size().value(), 1u);
}

TEST(redis_queue, a_reclaimed_entry_is_handled_alone) {
  hand_fed_queue q;
  auto& [names, uri, c, producer, to_queue] = q;
  const stream_options options{.stream = names.stream, .read_count = 1, .block = 50ms, .visibility_timeout = 500ms};
  const auto all = records(3);
  ASSERT_TRUE(to_queue.write(std::span{all}.first(1), {}));
  auto crashing = stream_consumer::open({.uri = uri}, options).value();
  ASSERT_TRUE(crashing->read({}).value());  // entry 0, never acknowledged
  ASSERT_TRUE(to_queue.write(std::span{all}.subspan(1, 1), {}));
  ASSERT_TRUE(to_queue.write(std::span{all}.subspan(2, 1), {}));
  auto consumer = stream_consumer::open({.uri = uri}, options).value();
  const auto first_id = [](const std::vector<stream_entry>& entries) {
    return pipeline::record_codec{}
        .decode(*pipeline::detail::frame_reader{entries.front().frame}.next())
        .value()
        .find("id")
        ->get<std::int64_t>();
  };
  auto fresh = consumer->read({}).value();
  ASSERT_TRUE(fresh);
  ASSERT_EQ(first_id(*fresh), 1);
  const auto fresh_number = consumer->track({fresh->front().id});
  std::this_thread::sleep_for(600ms);  // entry 0 is idle past the visibility timeout now

  // A read that must wait until entries tracked up to `number` are acknowledged, then returns.
  const auto read_once_acknowledged = [&](std::uint64_t number, std::string_view read_too_early) {
    auto read = std::async(std::launch::async, [&] { return consumer->read({}); });
    EXPECT_EQ(read.wait_for(300ms), std::future_status::timeout) << read_too_early;
    EXPECT_TRUE(consumer->ack_through(number));
    EXPECT_EQ(read.wait_for(5s), std::future_status::ready);
    return read.get().value();
  };

  // Entry 0 is claimed only once what this consumer holds is acknowledged...
  auto reclaimed = read_once_acknowledged(fresh_number, "claimed beside an unacknowledged entry");
  ASSERT_TRUE(reclaimed);
  ASSERT_EQ(reclaimed->size(), 1u);
  EXPECT_EQ(first_id(*reclaimed), 0);
  EXPECT_EQ(reclaimed->front().deliveries, 2u);
  const auto reclaimed_number = consumer->track({reclaimed->front().id});

  // ...and nothing else is read until it is acknowledged.
  auto after = read_once_acknowledged(reclaimed_number, "read beside a reclaimed entry");
  ASSERT_TRUE(after);
  EXPECT_EQ(first_id(*after), 2);
}

TEST(redis_queue, a_stopped_worker_leaves_its_entries_to_be_reclaimed) {
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  auto produced = produce(uri, names, 200, 10);
  ASSERT_EQ(produced.status, pipeline::run_status::completed);
  const stream_options options{.stream = names.stream, .block = 50ms, .visibility_timeout = 300ms};
  {
    auto consumer = stream_consumer::open({.uri = uri}, options).value();
    auto taken = consumer->read({}).value();  // holds entries, then leaves
    ASSERT_TRUE(taken);
  }
  auto consumer = stream_consumer::open({.uri = uri}, options).value();
  redis_test::hash_sink sink{redis_test::connect(uri), names.sink};
  pipeline::memory_dlq dlq;
  auto report = run_worker<record>(*consumer, pipeline::identity{}, sink, dlq, {.name = "w", .workers = 2});
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sorted(sink.ids()), all_ids(200));
  EXPECT_TRUE(dlq.entries().empty());
}

TEST(redis_queue, a_full_queue_makes_the_producer_wait_and_stop_ends_the_wait) {
  const queue_names names;
  auto c = redis_test::connect();
  auto producer = stream_producer::open(c, {.stream = names.stream, .max_depth = 3}).value();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(producer.add("x", {}));
  std::stop_source stop;
  std::jthread stopper{[&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  }};
  const auto start = std::chrono::steady_clock::now();
  auto r = producer.add("x", stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::stopped);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  EXPECT_EQ(c->command({"XLEN", names.stream}).value().integer, 3);

  // An exactly-once add waits the same way, and adds neither the entry nor its ledger row.
  std::stop_source stop_committed;
  std::jthread committed_stopper{[&] {
    std::this_thread::sleep_for(200ms);
    stop_committed.request_stop();
  }};
  pipeline::committed_batch entry;
  entry.job = "full";
  const std::vector<std::string> frames{"y"};
  auto committed = producer.add_committed(frames, entry, stop_committed.get_token());
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().kind, pipeline::error_kind::stopped);
  EXPECT_EQ(c->command({"XLEN", names.stream}).value().integer, 3);
  EXPECT_TRUE(producer.committed("full", {}).value().empty());
}

// Keeps the server busy (a script that spins) for `how_long`, from another connection.
auto busy_server(std::string uri, std::chrono::microseconds how_long) -> std::jthread {
  return std::jthread{[uri = std::move(uri), how_long] {
    auto c = redis_test::connect(uri);
    constexpr std::string_view spin = R"lua(
local t0 = redis.call('TIME')
local start = t0[1] * 1000000 + t0[2]
repeat local t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= tonumber(ARGV[1])
return 1
)lua";
    const std::vector<std::string> args{std::to_string(how_long.count())};
    EXPECT_TRUE(c->eval(spin, {}, args));
  }};
}

TEST(redis_queue, concurrent_adds_share_one_script_and_each_gets_its_own_entry) {
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  auto c = redis_test::connect(uri);
  auto producer = stream_producer::open(c, {.stream = names.stream}).value();
  // The slow log, set to keep every command, shows how many add scripts reached the server.
  ASSERT_TRUE(c->command({"CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "100000"}));
  const auto logged_adds = [&] {
    auto log = c->command({"SLOWLOG", "GET", "-1"}).value();
    return std::count_if(log.elements.begin(), log.elements.end(), [&](const reply& entry) {
      const auto& args = entry.elements.at(3).elements;
      return args.size() > 4 && args[0].str == "EVAL" && args[3].str == names.stream;
    });
  };
  const auto before = logged_adds();
  constexpr std::size_t callers = 8;
  std::vector<std::string> frames;
  for (std::size_t i = 0; i < callers; ++i) frames.push_back(fmt::format("frame {}", i));
  std::vector<std::string> ids(callers);
  {
    auto busy = busy_server(uri, 600ms);
    std::this_thread::sleep_for(100ms);
    // The first add waits behind the busy server; the others queue behind it meanwhile.
    std::vector<std::jthread> adders;
    for (std::size_t i = 0; i < callers; ++i) {
      adders.emplace_back([&, i] { ids[i] = producer.add(frames[i], {}).value(); });
      if (i == 0) std::this_thread::sleep_for(50ms);
    }
  }
  const auto adds = logged_adds() - before;
  ASSERT_TRUE(c->command({"CONFIG", "SET", "slowlog-log-slower-than", "10000", "slowlog-max-len", "128"}));
  EXPECT_LE(adds, 3) << "8 concurrent adds took " << adds << " scripts";
  EXPECT_EQ(c->command({"XLEN", names.stream}).value().integer, static_cast<std::int64_t>(callers));
  for (std::size_t i = 0; i < callers; ++i) {
    auto entry = c->command({"XRANGE", names.stream, ids[i], ids[i]}).value();
    ASSERT_EQ(entry.elements.size(), 1u) << ids[i];
    EXPECT_EQ(entry.elements[0].elements.at(1).elements.at(1).str, frames[i]) << "caller " << i << " got another's id";
  }
}

TEST(redis_queue, an_add_whose_reply_was_lost_is_added_once_by_its_retry_and_an_add_between_is_kept) {
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  auto c = redis_test::connect(uri);
  // No waiting out outages: a reply later than 100 ms fails the add, though the server runs it.
  auto impatient = client::connect({.uri = uri, .command_timeout = 100ms, .outage_budget = 0ms}).value();
  auto producer = stream_producer::open(impatient, {.stream = names.stream}).value();
  const std::vector<std::string> batch{"a", "b"};
  {
    auto busy = busy_server(uri, 500ms);
    std::this_thread::sleep_for(100ms);
    auto lost = producer.add_all(batch, {});
    ASSERT_FALSE(lost) << "the reply came in time: the server was not busy";
    EXPECT_EQ(lost.error().kind, pipeline::error_kind::transient);
  }
  const auto length = [&] { return c->command({"XLEN", names.stream}).value().integer; };
  for (int i = 0; i < 50 && length() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(length(), 2) << "the add ran once the server was free";
  // Another caller's add comes first: it must not be taken for the lost one (same numbers).
  ASSERT_TRUE(producer.add("c", {}));
  EXPECT_EQ(length(), 3) << "an add after the lost one was skipped";
  ASSERT_TRUE(producer.add_all(batch, {}));
  EXPECT_EQ(length(), 3) << "the retry added the batch again";
}

TEST(redis_queue, copies_of_a_producer_share_one_numbering) {
  const queue_names names;
  auto c = redis_test::connect(redis_test::suite_uri());
  auto producer = stream_producer::open(c, {.stream = names.stream}).value();
  auto copy = producer;
  // Were the numbering copied, the copy's first add would reuse number 1, which the script
  // skips as done.
  ASSERT_TRUE(producer.add("a", {}));
  ASSERT_TRUE(copy.add("b", {}));
  ASSERT_TRUE(producer.add_all(std::vector<std::string>{"c", "d"}, {}));
  EXPECT_EQ(c->command({"XLEN", names.stream}).value().integer, 4);
  const auto keys = c->command({"KEYS", fmt::format("{{{}}}:producer:*", names.stream)}).value();
  ASSERT_EQ(keys.elements.size(), 1u) << "each copy numbers its adds under a key of its own";
  EXPECT_THAT(c->command({"GET", keys.elements[0].str}).value().str, testing::StartsWith("4 "));
}

TEST(redis_queue, a_producer_at_max_depth_trims_what_is_acknowledged_and_goes_on) {
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  auto c = redis_test::connect(uri);
  auto producer = stream_producer::open(c, {.stream = names.stream, .max_depth = 3}).value();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(producer.add("x", {}));
  // A worker that acknowledges everything and, idle, has not trimmed yet.
  auto consumer =
      stream_consumer::open({.uri = uri}, {.stream = names.stream, .read_count = 3, .trim_interval = 3'600'000ms}).value();
  auto got = consumer->read({}).value().value();
  ASSERT_TRUE(consumer->ack_through(consumer->track({got[0].id, got[1].id, got[2].id})));
  std::stop_source give_up;
  std::jthread timer{[&] {
    std::this_thread::sleep_for(3s);
    give_up.request_stop();
  }};
  EXPECT_TRUE(producer.add("x", give_up.get_token())) << "the producer waited for entries that were done";
}

TEST(redis_queue, desired_workers_follow_the_stream_depth) {
  const queue_names names;
  auto c = redis_test::connect();
  auto producer = stream_producer::open(c, {.stream = names.stream, .max_depth = 0}).value();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(producer.add("x", {}));
  std::size_t told = 0;
  pipeline::autoscaler scaler{{.min_workers = 1, .max_workers = 8, .up_after = 1,
                               .on_desired = [&](std::size_t n) { told = n; }}};
  EXPECT_EQ(desired_workers(producer, scaler, 1).value(), 8u);
  EXPECT_EQ(told, 8u);
}

TEST(redis_queue, the_supervisor_depth_function_reads_undelivered_and_pending_entries) {
  const queue_names names;
  auto c = redis_test::connect();
  auto producer = stream_producer::open(c, {.stream = names.stream, .max_depth = 0}).value();
  const auto depth = pipeline::redis::stream_depth_function(producer);
  EXPECT_EQ(depth().value(), 0u);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(producer.add("x", {}));
  EXPECT_EQ(depth().value(), 25u);
}

TEST(redis_queue, a_producer_waiting_for_replicas_adds_once_they_have_the_entries) {
  redis_test::private_server primary;
  redis_test::private_server replica;
  auto to_replica = redis_test::connect(replica.uri());
  ASSERT_TRUE(to_replica->command({"REPLICAOF", "127.0.0.1", std::to_string(primary.port())}));
  auto c = redis_test::connect(primary.uri());
  for (int i = 0; i < 200; ++i) {  // the replica has synced when the primary counts it
    if (c->command({"WAIT", "1", "50"}).value().integer == 1) break;
  }
  auto producer = stream_producer::open(c, {.stream = "{w}:q", .wait_replicas = 1}).value();
  ASSERT_TRUE(producer.add("x", {}));
  EXPECT_EQ(to_replica->command({"XLEN", "{w}:q"}).value().integer, 1);  // WAIT returned: it is there

  // Two replicas asked for, one there: the add is on the primary but fails transient, and the
  // retry adds nothing twice.
  auto demanding = stream_producer::open(c, {.stream = "{w}:q", .wait_replicas = 2,
                                             .replica_timeout = std::chrono::milliseconds{100}}).value();
  auto short_of_replicas = demanding.add("y", {});
  ASSERT_FALSE(short_of_replicas);
  EXPECT_EQ(short_of_replicas.error().kind, pipeline::error_kind::transient);
  EXPECT_THAT(short_of_replicas.error().message, ::testing::HasSubstr("1 of 2 replicas"));
  EXPECT_FALSE(demanding.add("y", {}));
  EXPECT_EQ(c->command({"XLEN", "{w}:q"}).value().integer, 2);
}

// --- several processes ---------------------------------------------------------------------

TEST(redis_queue_processes, a_worker_killed_mid_batch_loses_nothing_and_its_entries_are_reclaimed) {
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  auto produced = produce(uri, names, 3000, 20);
  ASSERT_EQ(produced.status, pipeline::run_status::completed);
  redis_test::hash_sink sink{redis_test::connect(uri), names.sink};
  auto victim = worker_process(uri, names, 500, 5, -1, 20);
  auto survivor = worker_process(uri, names, 500, 5, -1, 20);
  for (int i = 0; i < 500 && sink.size() < 300; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(sink.size(), 300) << "the workers did not start";
  ASSERT_LT(sink.size(), 3000) << "too late to kill mid-run";
  victim->kill(SIGKILL);  // with batches in flight: its pending entries wait for the visibility timeout
  ASSERT_TRUE(survivor->wait_for(60s)) << "the surviving worker did not finish";
  EXPECT_EQ(exit_code(survivor->status()), 0);
  EXPECT_EQ(sorted(sink.ids()), all_ids(3000));
  auto c = redis_test::connect(uri);
  EXPECT_EQ(c->command({"XLEN", names.dlq}).value().integer, 0);
  auto consumer = stream_consumer::open({.uri = uri}, {.stream = names.stream}).value();
  EXPECT_EQ(consumer->depth().value().total(), 0u);
}

TEST(redis_queue_processes, a_poison_record_that_crashes_workers_is_dead_lettered_after_max_deliveries) {
  const queue_names names;
  const auto uri = redis_test::suite_uri();
  constexpr std::int64_t poison = 137;
  auto produced = produce(uri, names, 400, 5);  // the poison shares its entry with 135..139
  ASSERT_EQ(produced.status, pipeline::run_status::completed);
  redis_test::hash_sink sink{redis_test::connect(uri), names.sink};
  // Two worker slots; a crashed worker is replaced, as a supervisor would.
  std::vector<std::unique_ptr<redis_test::child_process>> slots;
  for (int i = 0; i < 2; ++i) slots.push_back(worker_process(uri, names, 300, 3, poison, 0));
  int crashes = 0;
  int completed = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (completed < 2 && std::chrono::steady_clock::now() < deadline) {
    for (auto& w : slots) {
      if (!w || !w->wait_for(0ms)) continue;
      if (exit_code(w->status()) == 0) {
        ++completed;
        w.reset();
      } else {
        ++crashes;
        w = worker_process(uri, names, 300, 3, poison, 0);
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(completed, 2) << "the queue did not drain";
  // Its entry crashes a worker once and is split when reclaimed; the poison alone then crashes
  // a worker at each of its max_deliveries deliveries, and is dead-lettered at the next.
  EXPECT_EQ(crashes, 1 + 3);
  dead_letter_stream dlq{redis_test::connect(uri), {.stream = names.dlq}};
  auto letters = dlq.read("0-0", 1000).value();
  ASSERT_EQ(letters.size(), 1u) << "only the poison is dead-lettered";
  const auto& letter = letters.front().second;
  EXPECT_EQ(letter.attempts, 4u);
  EXPECT_NE(letter.reason.message.find("without being acknowledged"), std::string::npos) << letter.reason.message;
  EXPECT_EQ(pipeline::record_codec{}.decode(letter.payload).value().find("id")->get<std::int64_t>(), poison);
  auto expected = all_ids(400);
  expected.erase(expected.begin() + poison);
  EXPECT_EQ(sorted(sink.ids()), expected) << "its entry's other records and everything in flight beside it are in the sink";
}

TEST(redis_queue_processes, a_server_restart_mid_run_loses_nothing) {
  redis_test::private_server server{{"--appendonly", "yes", "--appendfsync", "always"}};
  const queue_names names;
  const auto uri = server.uri();
  pipeline::run_report produced;
  std::jthread producer{[&] { produced = produce(uri, names, 3000, 10, patient); }};
  auto worker = worker_process(uri, names, 1000, 5, -1, 5);
  auto sink_client = client::connect({.uri = uri}).value();
  for (int i = 0; i < 1000; ++i) {
    auto n = sink_client->command({"HLEN", names.sink});
    if (n && n->integer >= 500) break;
    std::this_thread::sleep_for(10ms);
  }
  server.kill();  // appendfsync always: every acknowledged write is on disk
  std::this_thread::sleep_for(300ms);
  server.start();
  producer.join();
  EXPECT_EQ(produced.status, pipeline::run_status::completed) << (produced.failure ? produced.failure->message : "");
  ASSERT_TRUE(worker->wait_for(60s)) << "the worker did not finish";
  EXPECT_EQ(exit_code(worker->status()), 0);
  redis_test::hash_sink sink{client::connect({.uri = uri}).value(), names.sink};
  EXPECT_EQ(sorted(sink.ids()), all_ids(3000));
}

}  // namespace
