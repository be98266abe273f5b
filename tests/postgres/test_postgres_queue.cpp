// The PostgreSQL queue on the real server of PIPELINE_POSTGRES_TEST_URI: claims, acks,
// visibility timeout, delivery counts, close-and-drain, LISTEN/NOTIFY, stop, names, the
// producer's exactly-once sink (the transactional sink contract) and the roles end to end.
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/postgres/postgres.hpp>
#include <pipeline/testing/testing.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "postgres/postgres_queue_support.hpp"
#include "postgres/postgres_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace pipeline::postgres;
using namespace postgres_test::queue;
using pipeline::record;
using clock_type = std::chrono::steady_clock;

auto frame_of(std::int64_t from, std::int64_t count) -> std::string {
  std::string frame;
  for (const auto& r : records(from + count)) {
    if (*r.find("id")->get_if<std::int64_t>() < from) continue;
    std::string one;
    pipeline::record_codec{}.encode(r, one);
    pipeline::detail::frame_append(frame, one);
  }
  return frame;
}

// The ids in `table`'s id column, sorted.
auto ids_in(const std::string& table) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  for (const auto& row : postgres_test::rows(fmt::format("SELECT id FROM \"{}\"", table))) {
    out.push_back(*row.find("id")->get_if<std::int64_t>());
  }
  return sorted(out);
}

// The ids the letters of `refuse_bad` in the DLQ table name, sorted.
auto refused_ids_in(const std::string& dlq_table) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  for (const auto& row : postgres_test::rows(fmt::format("SELECT convert_from(message, 'UTF8') AS m FROM \"{}\"",
                                                         dlq_table))) {
    out.push_back(refused_id(*row.find("m")->get_if<std::string>()));
  }
  return sorted(out);
}

auto ids_of(const std::vector<queue_entry>& entries) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.id);
  return out;
}

// An empty queue, its producer, and a consumer that looks at the table unasked every
// `recheck`.
struct idle_queue {
  explicit idle_queue(std::chrono::milliseconds recheck)
      : producer(queue_producer::open(q.db, q.options()).value()), consumer([&] {
          auto o = q.options();
          o.recheck_interval = recheck;
          return queue_consumer::open(q.db, o).value();
        }()) {}
  queue_tables q;
  queue_producer producer;
  std::unique_ptr<queue_consumer> consumer;
};

TEST(postgres_queue, a_claim_takes_entries_in_order_and_an_ack_deletes_them) {
  queue_tables q;
  auto producer = queue_producer::open(q.db, q.options()).value();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(producer.add(frame_of(i, 1), {}));
  auto o = q.options();
  o.read_count = 3;
  auto consumer = queue_consumer::open(q.db, o).value();
  auto first = consumer->read({}).value().value();
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].deliveries, 1u);
  EXPECT_EQ(first[0].origin, first[0].id);
  EXPECT_EQ(producer.depth().value().claimed, 3u);
  EXPECT_EQ(producer.depth().value().ready, 2u);
  const auto n = consumer->track(ids_of(first));
  ASSERT_TRUE(consumer->ack_through(n));
  EXPECT_EQ(postgres_test::count(*q.db, q.table), 2);
  EXPECT_EQ(queue_depth_function(producer)().value(), 2u);
}

TEST(postgres_queue, a_producer_waits_while_the_queue_holds_more_than_max_depth) {
  queue_tables q;
  auto o = q.options();
  o.max_depth = 2;
  auto producer = queue_producer::open(q.db, o).value();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(producer.add(frame_of(i, 1), {}));
  std::stop_source stop;
  auto waiting = std::async(std::launch::async, [&] { return producer.add(frame_of(3, 1), stop.get_token()); });
  EXPECT_EQ(waiting.wait_for(300ms), std::future_status::timeout);
  stop.request_stop();
  auto stopped = waiting.get();
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().kind, pipeline::error_kind::stopped);
  auto consumer = queue_consumer::open(q.db, q.options()).value();
  ASSERT_TRUE(consumer->ack_through(consumer->track(ids_of(consumer->read({}).value().value()))));
  EXPECT_TRUE(producer.add(frame_of(3, 1), {})) << "room again once entries are acknowledged";
}

TEST(postgres_queue, an_unacknowledged_claim_is_claimed_again_after_the_visibility_timeout) {
  queue_tables q;
  auto producer = queue_producer::open(q.db, q.options()).value();
  ASSERT_TRUE(producer.add(frame_of(0, 1), {}));
  auto o = q.options();
  o.visibility_timeout = 300ms;
  o.recheck_interval = 50ms;
  auto crashed = queue_consumer::open(q.db, o).value();
  const auto held = crashed->read({}).value().value();
  ASSERT_EQ(held.size(), 1u);
  auto other = queue_consumer::open(q.db, o).value();
  ASSERT_TRUE(producer.close());
  // Not claimable while the claim lives: the other consumer waits, then gets it back.
  const auto start = clock_type::now();
  auto again = other->read({}).value().value();
  EXPECT_GE(clock_type::now() - start, 200ms);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, held[0].id);
  EXPECT_EQ(again[0].deliveries, 2u);
}

TEST(postgres_queue, an_entry_delivered_more_than_max_deliveries_is_dead_lettered_with_the_reason) {
  queue_tables q;
  auto producer = queue_producer::open(q.db, q.options()).value();
  ASSERT_TRUE(producer.add(frame_of(0, 1), {}));
  ASSERT_TRUE(producer.close());
  auto o = q.options();
  o.visibility_timeout = 100ms;
  o.recheck_interval = 30ms;
  o.max_deliveries = 1;
  auto crashed = queue_consumer::open(q.db, o).value();
  ASSERT_EQ(crashed->read({}).value().value().size(), 1u);  // never acknowledged
  auto consumer = queue_consumer::open(q.db, o).value();
  pipeline::memory_dlq dlq;
  pipeline::memory_sink<record> sink;
  auto report = run_worker<record>(*consumer, pipeline::identity{}, sink, dlq, {.name = "w", .workers = 1});
  ASSERT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_TRUE(sink.records().empty());
  const auto letters = dlq.entries();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_THAT(letters[0].reason.message, ::testing::HasSubstr("was delivered 2 times without being acknowledged"));
  EXPECT_THAT(letters[0].reason.message, ::testing::HasSubstr("max_deliveries 1"));
  EXPECT_EQ(postgres_test::count(*q.db, q.table), 0) << "dead-lettered entries are acknowledged";
}

TEST(postgres_queue, a_reclaimed_entry_of_several_records_is_split_into_one_entry_per_record) {
  queue_tables q;
  auto producer = queue_producer::open(q.db, q.options()).value();
  const auto id = producer.add(frame_of(0, 3), {}).value();
  auto o = q.options();
  o.visibility_timeout = 100ms;
  o.recheck_interval = 30ms;
  auto crashed = queue_consumer::open(q.db, o).value();
  ASSERT_EQ(crashed->read({}).value().value().size(), 1u);
  std::this_thread::sleep_for(150ms);
  auto consumer = queue_consumer::open(q.db, o).value();
  auto got = consumer->read({}).value().value();
  // The split entries are new: claimed as fresh ones, each with its record's origin.
  std::vector<std::size_t> indices;
  for (const auto& e : got) {
    EXPECT_EQ(e.origin, id);
    EXPECT_EQ(e.deliveries, 1u);
    indices.push_back(e.origin_index);
  }
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2}));
}

TEST(postgres_queue, a_closed_queue_ends_its_workers_once_drained) {
  queue_tables q;
  auto producer = queue_producer::open(q.db, q.options()).value();
  ASSERT_TRUE(producer.add(frame_of(0, 10), {}));
  ASSERT_TRUE(producer.add(frame_of(10, 10), {}));
  ASSERT_TRUE(producer.close());
  auto consumer = queue_consumer::open(q.db, q.options()).value();
  pipeline::memory_dlq dlq;
  pipeline::memory_sink<record> sink;
  auto report = run_worker<record>(*consumer, pipeline::identity{}, sink, dlq, {.name = "w", .workers = 2});
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(sink.records().size(), 20u);
  EXPECT_EQ(postgres_test::count(*q.db, q.table), 0);
}

TEST(postgres_queue, several_consumers_never_hold_the_same_entry_at_once) {
  queue_tables q;
  auto producer = queue_producer::open(q.db, q.options()).value();
  std::vector<std::string> frames;
  for (int i = 0; i < 400; ++i) frames.push_back(frame_of(i, 1));
  ASSERT_TRUE(producer.add_all(frames, {}));
  ASSERT_TRUE(producer.close());
  std::mutex m;
  std::multiset<std::string> claimed;
  std::stop_source all_claimed;
  {
    std::vector<std::jthread> consumers;
    for (int c = 0; c < 4; ++c) {
      consumers.emplace_back([&] {
        auto o = q.options();
        o.read_count = 3;
        auto consumer = queue_consumer::open(q.db, o).value();
        for (;;) {  // claims and never acknowledges, until every entry is claimed
          auto got = consumer->read(all_claimed.get_token());
          if (!got) {
            EXPECT_EQ(got.error().kind, pipeline::error_kind::stopped) << got.error().message;
            return;
          }
          std::scoped_lock lock{m};
          for (auto& e : **got) claimed.insert(e.id);
          if (claimed.size() >= 400) all_claimed.request_stop();
        }
      });
    }
  }
  EXPECT_EQ(claimed.size(), 400u);
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), 400u) << "an entry was claimed twice";
}

TEST(postgres_queue, a_notification_wakes_an_idle_worker_without_polling) {
  idle_queue idle{30s};  // so only the notification can wake it in time
  auto& producer = idle.producer;
  auto& consumer = idle.consumer;
  auto first_read = std::async(std::launch::async, [&] { return consumer->read({}); });
  std::this_thread::sleep_for(500ms);  // idle on its socket by now
  ASSERT_EQ(first_read.wait_for(0s), std::future_status::timeout);
  const auto added = clock_type::now();
  ASSERT_TRUE(producer.add(frame_of(0, 1), {}));
  ASSERT_EQ(first_read.wait_for(2s), std::future_status::ready);
  EXPECT_LT(clock_type::now() - added, 2s);
  EXPECT_EQ(first_read.get().value().value().size(), 1u);
}

TEST(postgres_queue, a_lost_listening_connection_is_opened_again_and_strands_nothing) {
  idle_queue idle{500ms};
  auto& producer = idle.producer;
  auto& consumer = idle.consumer;
  auto first_read = std::async(std::launch::async, [&] { return consumer->read({}); });
  std::this_thread::sleep_for(200ms);
  postgres_test::rows(fmt::format("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN \"{}\"'",
                                  idle.q.table));
  ASSERT_TRUE(producer.add(frame_of(0, 1), {}));
  ASSERT_EQ(first_read.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(first_read.get().value().value().size(), 1u);
}

TEST(postgres_queue, stop_ends_an_idle_read_within_a_fraction_of_a_second) {
  idle_queue idle{30s};
  auto& consumer = idle.consumer;
  std::stop_source stop;
  auto read = std::async(std::launch::async, [&] { return consumer->read(stop.get_token()); });
  std::this_thread::sleep_for(300ms);
  const auto asked = clock_type::now();
  stop.request_stop();
  ASSERT_EQ(read.wait_for(2s), std::future_status::ready);
  EXPECT_LT(clock_type::now() - asked, 500ms);
  auto r = read.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::stopped);
}

TEST(postgres_queue, names_that_are_not_identifiers_are_refused_before_any_sql) {
  auto db = postgres_test::open_db();
  for (const char* name : {"q\"; DROP TABLE pipeline_queue_state; --", "q q", "", "1q"}) {
    queue_options o;
    o.table = name;
    EXPECT_THROW((void)queue_producer::open(db, o), std::invalid_argument) << name;
    EXPECT_THROW((void)queue_consumer::open(db, o), std::invalid_argument) << name;
    o.table = "q";
    o.state_table = name;
    EXPECT_THROW((void)queue_producer::open(db, o), std::invalid_argument) << name;
  }
}

TEST(postgres_queue, a_name_that_needs_quoting_is_quoted) {
  queue_tables q;
  q.table = postgres_test::table_name("Queue_MixedCase");
  q.cleanup.names.push_back(q.table);
  auto producer = queue_producer::open(q.db, q.options()).value();
  ASSERT_TRUE(producer.add(frame_of(0, 1), {}));
  EXPECT_EQ(postgres_test::count(*q.db, q.table), 1);
}

// The producer and three worker threads through the roles: every good record once in the
// sink table, every bad one once in the DLQ table.
TEST(postgres_queue_roles, a_producer_and_three_workers_move_every_record_once) {
  queue_tables q;
  const auto sink_table = postgres_test::table_name("q_sink");
  const auto dlq_table = postgres_test::table_name("q_dlq");
  const auto checkpoints_table = postgres_test::table_name("q_cp");
  q.cleanup.names.insert(q.cleanup.names.end(), {sink_table, dlq_table, checkpoints_table});
  constexpr std::int64_t n = 3000;
  table_sink_options so;
  so.table = sink_table;
  so.columns = {"id", "name"};
  so.create_table = true;
  so.column_types = {{"id", "BIGINT"}};
  auto sink = table_sink::open(q.db, so).value();
  auto dlq = dead_letter_table::open(q.db, {.table = dlq_table}).value();

  std::vector<pipeline::run_report> reports(3);
  {
    std::vector<std::jthread> workers;
    for (auto& report : reports) {
      workers.emplace_back([&] {
        auto o = q.options();
        o.recheck_interval = 200ms;
        auto consumer = queue_consumer::open(q.db, o).value();
        report = run_worker<record>(*consumer, refuse_bad, sink, dlq, {.name = "w", .workers = 2});
      });
    }
    auto producer = queue_producer::open(q.db, q.options()).value();
    pipeline::vector_source<record> source{records(n), 50};
    auto checkpoints = checkpoint_store::open(q.db, {.table = checkpoints_table}).value();
    pipeline::memory_dlq source_dlq;
    pipeline::runner_options ro;
    ro.name = "producer";
    ro.exactly_once = true;
    auto produced = run_producer(source, producer, source_dlq, checkpoints, ro);
    ASSERT_EQ(produced.status, pipeline::run_status::completed);
  }
  for (const auto& r : reports) EXPECT_EQ(r.status, pipeline::run_status::completed);
  EXPECT_EQ(ids_in(sink_table), ids_where(n, false));
  EXPECT_EQ(refused_ids_in(dlq_table), ids_where(n, true));
  EXPECT_EQ(postgres_test::count(*q.db, q.table), 0);
}

// A sink table (id BIGINT, name TEXT) without a key, and its ledger, dropped with the queue.
struct keyless_rows {
  keyless_rows(queue_tables& q, const std::string& check = "") {
    q.cleanup.names.insert(q.cleanup.names.end(), {table, ledger});
    postgres_test::exec(*q.db, fmt::format("CREATE TABLE \"{}\" (id BIGINT, name TEXT{})", table, check));
    table_sink_options so;
    so.table = table;
    so.columns = {"id", "name"};
    so.batch_table = ledger;
    sink.emplace(table_sink::open(q.db, so).value());
  }
  [[nodiscard]] auto ids() const -> std::vector<std::int64_t> { return ids_in(table); }
  std::string table = postgres_test::table_name("q_rows");
  std::string ledger = postgres_test::table_name("q_rows_ledger");
  std::optional<table_sink> sink;
};

// A worker run in exactly-once mode into `rows` through an acknowledging_table_sink.
auto run_exactly_once_worker(queue_consumer& consumer, keyless_rows& rows, pipeline::memory_dlq& dlq)
    -> pipeline::run_report {
  acknowledging_table_sink sink{*rows.sink, consumer};
  pipeline::runner_options ro;
  ro.name = "w";
  ro.exactly_once = true;
  return run_worker<record>(consumer, pipeline::identity{}, sink, dlq, ro);
}

TEST(postgres_queue_same_transaction_ack, a_batch_whose_rows_committed_is_never_delivered_again) {
  queue_tables q;
  auto producer = queue_producer::open(q.db, q.options()).value();
  ASSERT_TRUE(producer.add(frame_of(0, 3), {}));
  ASSERT_TRUE(producer.close());
  keyless_rows rows{q};
  auto o = q.options();
  o.visibility_timeout = 100ms;
  o.recheck_interval = 30ms;
  {
    // A worker that writes its batch and dies before any acknowledgement of its own.
    auto crashing = queue_consumer::open(q.db, o).value();
    auto entries = crashing->read({}).value().value();
    ASSERT_EQ(entries.size(), 1u);
    const auto number = crashing->track(ids_of(entries));
    acknowledging_table_sink sink{*rows.sink, *crashing};
    const pipeline::committed_batch entry{"w", 0, 1, 0, 0, pipeline::position{},
                                          pipeline::position{fmt::format("{}/{}", number, entries[0].id)}};
    ASSERT_TRUE(sink.write_committed(records(3), entry, {}));
  }
  EXPECT_EQ(postgres_test::count(*q.db, q.table), 0) << "the entry went with the rows' commit";
  std::this_thread::sleep_for(150ms);
  auto consumer = queue_consumer::open(q.db, o).value();
  pipeline::memory_dlq dlq;
  auto report = run_exactly_once_worker(*consumer, rows, dlq);
  EXPECT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.written, 0u);
  EXPECT_EQ(rows.ids(), (std::vector<std::int64_t>{0, 1, 2}));
}

TEST(postgres_queue_same_transaction_ack, a_slice_of_a_split_batch_is_acknowledged_after_the_checkpoint) {
  queue_tables q;
  auto producer = queue_producer::open(q.db, q.options()).value();
  ASSERT_TRUE(producer.add(frame_of(0, 8), {}));
  ASSERT_TRUE(producer.close());
  keyless_rows rows{q, ", CHECK (id <> 5)"};  // the table refuses record 5
  auto consumer = queue_consumer::open(q.db, q.options()).value();
  pipeline::memory_dlq dlq;
  auto report = run_exactly_once_worker(*consumer, rows, dlq);
  ASSERT_EQ(report.status, pipeline::run_status::completed);
  EXPECT_EQ(report.written, 7u);
  EXPECT_EQ(rows.ids(), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 6, 7}));
  EXPECT_EQ(dlq.entries().size(), 1u);
  EXPECT_EQ(postgres_test::count(*q.db, q.table), 0);
}

// Three workers whose rows and acknowledgements commit together, into a table without a key:
// every good record once, every bad one once in the DLQ.
TEST(postgres_queue_same_transaction_ack, three_workers_write_every_record_once_into_a_table_without_a_key) {
  queue_tables q;
  constexpr std::int64_t n = 2000;
  keyless_rows rows{q};
  const auto dlq_table = postgres_test::table_name("q_dlq");
  q.cleanup.names.push_back(dlq_table);
  auto dlq = dead_letter_table::open(q.db, {.table = dlq_table}).value();
  {
    auto producer = queue_producer::open(q.db, q.options()).value();
    pipeline::vector_source<record> source{records(n), 40};
    pipeline::memory_checkpoint_store checkpoints;
    pipeline::memory_dlq source_dlq;
    ASSERT_EQ(run_producer(source, producer, source_dlq, checkpoints, {.name = "p"}).status,
              pipeline::run_status::completed);
  }
  std::vector<pipeline::run_report> reports(3);
  {
    std::vector<std::jthread> workers;
    for (auto& report : reports) {
      workers.emplace_back([&] {
        auto consumer = queue_consumer::open(q.db, q.options()).value();
        acknowledging_table_sink sink{*rows.sink, *consumer};
        pipeline::runner_options ro;
        ro.name = "w";
        ro.workers = 2;
        ro.exactly_once = true;
        report = run_worker<record>(*consumer, refuse_bad, sink, dlq, ro);
      });
    }
  }
  for (const auto& r : reports) EXPECT_EQ(r.status, pipeline::run_status::completed);
  EXPECT_EQ(rows.ids(), ids_where(n, false));
  EXPECT_EQ(refused_ids_in(dlq_table), ids_where(n, true));
  EXPECT_EQ(postgres_test::count(*q.db, q.table), 0);
}

// A producer's queue sink in exactly-once mode: what the queue holds is every record of
// every entry, decoded.
struct queue_sink_factory {
  using sink_type = queue_sink<record>;
  auto make_sink() -> std::unique_ptr<sink_type> { return std::make_unique<sink_type>(producer_); }
  static auto make_record(std::size_t i) -> record {
    return {{"id", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }
  auto stored() -> std::vector<record> {
    std::vector<record> out;
    for (const auto& row : postgres_test::rows(fmt::format("SELECT encode(frame, 'hex') AS f FROM \"{}\" ORDER BY id",
                                                           tables_.table))) {
      const auto bytes = postgres_test_hex(*row.find("f")->get_if<std::string>());
      pipeline::detail::frame_reader frame{bytes};
      while (auto one = frame.next()) out.push_back(pipeline::record_codec{}.decode(*one).value());
    }
    return out;
  }

 private:
  static auto postgres_test_hex(const std::string& hex) -> std::string {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
  }
  queue_tables tables_;
  queue_producer producer_ = [this] {
    auto o = tables_.options();
    o.max_depth = 0;
    return queue_producer::open(tables_.db, o).value();
  }();
};

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(postgres_queue_sink, transactional_sink_contract, ::testing::Types<queue_sink_factory>);
}  // namespace pipeline::testing
