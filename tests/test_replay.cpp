#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/replay.hpp>

#include <gtest/gtest.h>

#include <charconv>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using pipeline::dead_letter;
using pipeline::error;
using pipeline::error_kind;

auto letter(std::string payload, std::string job = "prices") -> dead_letter {
  static std::int64_t next_position = 0;
  return dead_letter{std::move(payload),
                     error{error_kind::internal, "the transform threw: bug", 0, ""},
                     1,
                     pipeline::position::from_integer(++next_position),
                     0,
                     std::chrono::system_clock::now(),
                     std::move(job)};
}

void fill(pipeline::memory_dlq& dlq, std::vector<dead_letter> letters) {
  ASSERT_TRUE(dlq.write(std::span{std::as_const(letters)}, {}));
}

// The payload as a number; anything else is bad input, as a codec would say.
auto parse_number(std::string_view payload) -> pipeline::result<int> {
  int n = 0;
  const auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), n);
  if (ec != std::errc{} || end != payload.data() + payload.size()) {
    return pipeline::invalid_input_error("not a number: " + std::string(payload));
  }
  return n;
}

auto options(std::size_t page_size = 256) -> pipeline::replay_options<int> {
  pipeline::replay_options<int> o;
  o.decode = parse_number;
  o.page_size = page_size;
  o.retry.initial = std::chrono::milliseconds{0};
  return o;
}

// The memory sink refuses 30 (per record).
auto refusing_thirty(pipeline::memory_sink<int>& sink) {
  sink.fail_records([](const int& v) -> std::optional<error> {
    if (v == 30) return pipeline::permanent_error("30 is out of range");
    return std::nullopt;
  });
}

const auto times_ten = [](const int& n) { return n * 10; };

// A sink without write_each: all or nothing, refusing a batch that holds 30.
class batch_only_sink {
 public:
  using value_type = int;
  auto write(std::span<const int> records, std::stop_token) -> pipeline::result<void> {
    ++calls;
    for (int v : records) {
      if (v == 30) return pipeline::permanent_error("30 is out of range");
    }
    written.insert(written.end(), records.begin(), records.end());
    return pipeline::ok();
  }
  std::vector<int> written;
  std::size_t calls = 0;
};

TEST(replay, resolves_what_the_sink_takes_and_raises_attempts_of_the_rest) {
  pipeline::memory_dlq dlq;
  fill(dlq, {letter("1"), letter("2"), letter("3"), letter("x"), letter("5")});
  pipeline::memory_sink<int> sink;
  refusing_thirty(sink);
  auto report = pipeline::replay(dlq, {}, times_ten, sink, options(2));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->read, 5u);
  EXPECT_EQ(report->resolved, 3u);
  EXPECT_EQ(report->failed_again, 2u);
  EXPECT_FALSE(report->stopped);
  EXPECT_EQ(sink.records(), (std::vector<int>{10, 20, 50}));
  const auto left = dlq.entries();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].payload, "3");
  EXPECT_EQ(left[0].attempts, 2u);
  EXPECT_EQ(left[0].reason.message, "30 is out of range");
  EXPECT_EQ(left[1].payload, "x");
  EXPECT_EQ(left[1].attempts, 2u);
  EXPECT_EQ(left[1].reason.kind, error_kind::invalid_input);
}

TEST(replay, replays_only_what_the_filter_matches) {
  pipeline::memory_dlq dlq;
  fill(dlq, {letter("1", "prices"), letter("2", "stock"), letter("3", "prices")});
  pipeline::memory_sink<int> sink;
  auto report = pipeline::replay(dlq, {.job = "stock"}, times_ten, sink, options());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->read, 1u);
  EXPECT_EQ(report->resolved, 1u);
  EXPECT_EQ(sink.records(), (std::vector<int>{20}));
  EXPECT_EQ(dlq.entries().size(), 2u);
}

TEST(replay, a_second_replay_reads_only_what_failed_again) {
  pipeline::memory_dlq dlq;
  fill(dlq, {letter("1"), letter("3")});
  pipeline::memory_sink<int> sink;
  refusing_thirty(sink);
  ASSERT_TRUE(pipeline::replay(dlq, {}, times_ten, sink, options()));
  auto again = pipeline::replay(dlq, {}, times_ten, sink, options());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->read, 1u);
  EXPECT_EQ(again->failed_again, 1u);
  EXPECT_EQ(sink.records(), (std::vector<int>{10}));  // written once
  ASSERT_EQ(dlq.entries().size(), 1u);
  EXPECT_EQ(dlq.entries()[0].attempts, 3u);
}

TEST(replay, a_sink_without_answers_per_record_is_tried_a_record_at_a_time_after_a_refusal) {
  pipeline::memory_dlq dlq;
  fill(dlq, {letter("1"), letter("3"), letter("4")});
  batch_only_sink sink;
  auto report = pipeline::replay(dlq, {}, times_ten, sink, options());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->resolved, 2u);
  EXPECT_EQ(report->failed_again, 1u);
  EXPECT_EQ(sink.written, (std::vector<int>{10, 40}));
  EXPECT_EQ(sink.calls, 4u);  // the page, then each record
}

TEST(replay, a_throwing_transform_fails_the_letter_again_with_its_message) {
  pipeline::memory_dlq dlq;
  fill(dlq, {letter("1"), letter("2")});
  pipeline::memory_sink<int> sink;
  auto report = pipeline::replay(
      dlq, {},
      [](const int& n) -> int {
        if (n == 2) throw std::runtime_error("still a bug");
        return n;
      },
      sink, options());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->resolved, 1u);
  ASSERT_EQ(dlq.entries().size(), 1u);
  EXPECT_EQ(dlq.entries()[0].reason.kind, error_kind::internal);
  EXPECT_NE(dlq.entries()[0].reason.message.find("still a bug"), std::string::npos);
}

TEST(replay, a_sink_outage_returns_the_error_and_resolves_nothing) {
  pipeline::memory_dlq dlq;
  fill(dlq, {letter("1"), letter("2")});
  pipeline::memory_sink<int> sink;
  sink.fail_next_writes(100, pipeline::transient_error("connection lost"));
  auto o = options();
  o.retry.max_attempts = 2;
  auto report = pipeline::replay(dlq, {}, times_ten, sink, o);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().message, "connection lost");
  EXPECT_EQ(dlq.entries().size(), 2u);
  EXPECT_EQ(dlq.entries()[0].attempts, 1u);  // an outage is not the letter's failure
}

// A memory_dlq whose resolve fails until told otherwise: a crash between write and resolve.
class dlq_that_cannot_resolve {
 public:
  auto write(std::span<const dead_letter> letters, std::stop_token stop) -> pipeline::result<void> {
    return dlq.write(letters, stop);
  }
  auto read(const pipeline::dead_letter_filter& filter, const std::optional<std::string>& after, std::size_t limit,
            std::stop_token stop) -> pipeline::result<std::vector<pipeline::stored_dead_letter>> {
    return dlq.read(filter, after, limit, stop);
  }
  auto resolve(std::span<const std::string> ids, std::stop_token stop) -> pipeline::result<void> {
    if (broken) return pipeline::permanent_error("the store went away");
    return dlq.resolve(ids, stop);
  }
  auto record_failure(std::span<const pipeline::failed_replay> failures, std::stop_token stop)
      -> pipeline::result<void> {
    return dlq.record_failure(failures, stop);
  }
  auto purge(const pipeline::dead_letter_filter& filter, std::stop_token stop) -> pipeline::result<std::size_t> {
    return dlq.purge(filter, stop);
  }
  pipeline::memory_dlq dlq;
  bool broken = true;
};
static_assert(pipeline::dead_letter_store<dlq_that_cannot_resolve>);

TEST(replay, a_failed_resolve_replays_the_page_again_at_least_once) {
  dlq_that_cannot_resolve store;
  std::vector<dead_letter> letters{letter("1"), letter("2")};
  ASSERT_TRUE(store.write(std::span{std::as_const(letters)}, {}));
  pipeline::memory_sink<int> sink;
  auto first = pipeline::replay(store, {}, times_ten, sink, options());
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().message, "the store went away");
  EXPECT_EQ(store.dlq.entries().size(), 2u);  // still pending
  store.broken = false;
  auto second = pipeline::replay(store, {}, times_ten, sink, options());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->resolved, 2u);
  EXPECT_TRUE(store.dlq.entries().empty());
  EXPECT_EQ(sink.records(), (std::vector<int>{10, 20, 10, 20}));  // written twice: a sink without keys sees both
}

TEST(replay, a_stop_ends_it_before_the_next_page) {
  pipeline::memory_dlq dlq;
  fill(dlq, {letter("1"), letter("2")});
  pipeline::memory_sink<int> sink;
  std::stop_source stop;
  stop.request_stop();
  auto report = pipeline::replay(dlq, {}, times_ten, sink, options(), stop.get_token());
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->stopped);
  EXPECT_EQ(report->read, 0u);
  EXPECT_TRUE(sink.records().empty());
  EXPECT_EQ(dlq.entries().size(), 2u);
}

TEST(replay, decodes_with_a_codec) {
  pipeline::memory_dlq dlq;
  pipeline::record_codec codec;
  pipeline::record r;
  r.set("n", std::int64_t{4});
  std::string encoded;
  codec.encode(r, encoded);
  fill(dlq, {letter(encoded)});
  pipeline::memory_sink<int> sink;
  pipeline::replay_options<pipeline::record> o;
  o.decode = pipeline::codec_decoder<pipeline::record>(codec);
  auto report = pipeline::replay(
      dlq, {}, [](const pipeline::record& in) { return static_cast<int>(in.find("n")->get<std::int64_t>()); }, sink, o);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->resolved, 1u);
  EXPECT_EQ(sink.records(), (std::vector<int>{4}));
}

}  // namespace
