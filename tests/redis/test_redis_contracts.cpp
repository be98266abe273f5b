// pipeline::redis passes the contract suites every adapter passes, against the suite's
// redis-server; each factory works under its own unique key prefix.
#include <pipeline/redis/redis.hpp>
#include <pipeline/testing/testing.hpp>

#include <limits>
#include <memory>
#include <string>

#include "redis/redis_test_support.hpp"

namespace {

using namespace pipeline::redis;

struct checkpoint_store_factory {
  using store_type = checkpoint_store;
  auto make_store() -> std::unique_ptr<checkpoint_store> {
    return std::make_unique<checkpoint_store>(redis_test::connect(),
                                              checkpoint_store_options{.prefix = pipeline::test::unique_name("cp")});
  }
};

struct job_log_factory {
  using store_type = job_log;
  auto make_store() -> std::unique_ptr<job_log> {
    return std::make_unique<job_log>(redis_test::connect(), job_log_options{.prefix = pipeline::test::unique_name("jobs")});
  }
};

struct dead_letter_stream_factory {
  using dlq_type = dead_letter_stream;
  static constexpr auto time_precision = std::chrono::microseconds{1};
  auto make_dlq() -> std::unique_ptr<dlq_type> {
    auto dlq = std::make_unique<dlq_type>(redis_test::connect(),
                                          dead_letter_stream_options{.stream = pipeline::test::unique_name("dlq")});
    last_ = dlq.get();
    return dlq;
  }
  auto stored() -> std::vector<pipeline::dead_letter> {
    std::vector<pipeline::dead_letter> out;
    auto all = last_->read("0-0", std::numeric_limits<std::size_t>::max()).value();  // kept: the loop borrows it
    for (auto& [id, letter] : all) {
      out.push_back(std::move(letter));
    }
    return out;
  }

 private:
  dlq_type* last_ = nullptr;
};

// A producer's stream sink in exactly-once mode: what the stream holds is every record of
// every entry, decoded.
struct stream_sink_factory {
  using sink_type = stream_sink<pipeline::record>;
  auto make_sink() -> std::unique_ptr<sink_type> { return std::make_unique<sink_type>(producer_); }
  static auto make_record(std::size_t i) -> pipeline::record {
    return {{"id", static_cast<std::int64_t>(i)}, {"name", "row-" + std::to_string(i)}};
  }
  auto stored() -> std::vector<pipeline::record> {
    std::vector<pipeline::record> out;
    const auto entries = client_->command({"XRANGE", stream_, "-", "+"}).value();
    for (const auto& entry : entries.elements) {
      pipeline::detail::frame_reader frame{entry.elements.at(1).elements.at(1).str};  // [id, [b, frame]]
      while (auto one = frame.next()) out.push_back(pipeline::record_codec{}.decode(*one).value());
    }
    return out;
  }

 private:
  std::shared_ptr<client> client_ = redis_test::connect();
  std::string stream_ = "{" + pipeline::test::unique_name("exactly_once") + "}:q";
  stream_producer producer_ = stream_producer::open(client_, {.stream = stream_, .max_depth = 0}).value();
};

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(redis_stream_sink, transactional_sink_contract, ::testing::Types<stream_sink_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(redis_checkpoint_store, checkpoint_store_contract, ::testing::Types<checkpoint_store_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(redis_job_log, job_log_store_contract, ::testing::Types<job_log_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(redis_dead_letter_stream, dead_letter_sink_contract,
                               ::testing::Types<dead_letter_stream_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(redis_dead_letter_stream, dead_letter_store_contract,
                               ::testing::Types<dead_letter_stream_factory>);
}  // namespace pipeline::testing
