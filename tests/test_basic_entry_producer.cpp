// The producer front end forwards each call to its backend as given; copies share the backend.
#include <pipeline/basic_entry_producer.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

// Records the calls it gets, one line each.
class recording_backend final : public pipeline::detail::entry_producer_backend {
 public:
  auto add(const std::string& frame, std::stop_token) -> pipeline::result<std::string> override {
    calls.push_back("add " + frame);
    return std::string{"id-1"};
  }
  auto add_all(std::span<const std::string> frames, std::stop_token) -> pipeline::result<void> override {
    calls.push_back("add_all " + std::to_string(frames.size()));
    return pipeline::ok();
  }
  auto add_committed(std::span<const std::string> frames, const pipeline::committed_batch& entry, std::stop_token)
      -> pipeline::result<void> override {
    calls.push_back("add_committed " + std::to_string(frames.size()) + " " + entry.job);
    return pipeline::ok();
  }
  auto committed(std::string_view job, std::stop_token)
      -> pipeline::result<std::vector<pipeline::committed_batch>> override {
    calls.push_back("committed " + std::string(job));
    pipeline::committed_batch held;
    held.job = std::string(job);
    return std::vector<pipeline::committed_batch>{held};
  }
  auto forget(std::string_view job, std::uint64_t run, std::uint64_t sequence, std::stop_token)
      -> pipeline::result<void> override {
    calls.push_back("forget " + std::string(job) + " " + std::to_string(run) + " " + std::to_string(sequence));
    return pipeline::ok();
  }
  auto close() -> pipeline::result<void> override {
    calls.push_back("close");
    return pipeline::conflict_error("closed already");
  }

  std::vector<std::string> calls;
};

// An adapter's shape: a front end made over its own backend.
class test_producer : public pipeline::basic_entry_producer {
 public:
  explicit test_producer(std::shared_ptr<recording_backend> b) : basic_entry_producer(std::move(b)) {}
  auto calls() const -> const std::vector<std::string>& { return static_cast<recording_backend&>(backend()).calls; }
};

TEST(basic_entry_producer, each_call_reaches_the_backend_with_its_arguments_and_answer) {
  test_producer producer{std::make_shared<recording_backend>()};
  const std::vector<std::string> frames{"f1", "f2"};
  pipeline::committed_batch entry;
  entry.job = "orders";

  EXPECT_EQ(producer.add("f0", {}).value(), "id-1");
  EXPECT_TRUE(producer.add_all(frames, {}));
  EXPECT_TRUE(producer.add_committed(frames, entry, {}));
  EXPECT_EQ(producer.committed("orders", {}).value().at(0).job, "orders");
  EXPECT_TRUE(producer.forget("orders", 3, 7, {}));
  const auto closed = producer.close();
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().kind, pipeline::error_kind::conflict);

  EXPECT_EQ(producer.calls(), (std::vector<std::string>{"add f0", "add_all 2", "add_committed 2 orders",
                                                        "committed orders", "forget orders 3 7", "close"}));
}

TEST(basic_entry_producer, copies_share_one_backend) {
  test_producer producer{std::make_shared<recording_backend>()};
  auto copy = producer;
  ASSERT_TRUE(copy.add("f", {}));
  EXPECT_EQ(producer.calls(), std::vector<std::string>{"add f"});
}

}  // namespace
