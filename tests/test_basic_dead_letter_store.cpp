#include <pipeline/basic_dead_letter_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/testing/dead_letter_sink_contract.hpp>
#include <pipeline/testing/dead_letter_store_contract.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace {

// A backend over a memory_dlq that counts the calls that reach it.
class counting_backend final : public pipeline::detail::dead_letter_backend {
 public:
  auto write(std::span<const pipeline::dead_letter> letters, std::stop_token stop) -> pipeline::result<void> override {
    ++calls;
    return dlq.write(letters, std::move(stop));
  }
  auto read(const pipeline::dead_letter_filter& filter, const std::optional<std::string>& after_id, std::size_t limit,
            std::stop_token stop) -> pipeline::result<std::vector<pipeline::stored_dead_letter>> override {
    ++calls;
    return dlq.read(filter, after_id, limit, std::move(stop));
  }
  auto resolve(std::span<const std::string> ids, std::stop_token stop) -> pipeline::result<void> override {
    ++calls;
    return dlq.resolve(ids, std::move(stop));
  }
  auto record_failure(std::span<const pipeline::failed_replay> failures, std::stop_token stop)
      -> pipeline::result<void> override {
    ++calls;
    return dlq.record_failure(failures, std::move(stop));
  }
  auto purge(const pipeline::dead_letter_filter& filter, std::stop_token stop)
      -> pipeline::result<std::size_t> override {
    ++calls;
    return dlq.purge(filter, std::move(stop));
  }

  pipeline::memory_dlq dlq;
  std::atomic<int> calls{0};  // the contract suites write from many threads
};

// An adapter's store, as the library's are made: the front end over its own backend.
class counting_store : public pipeline::basic_dead_letter_store {
 public:
  counting_store() : counting_store(std::make_shared<counting_backend>()) {}

  [[nodiscard]] auto calls() const -> int { return static_cast<counting_backend&>(backend()).calls; }
  [[nodiscard]] auto entries() const -> std::vector<pipeline::dead_letter> {
    return static_cast<counting_backend&>(backend()).dlq.entries();
  }

 private:
  explicit counting_store(std::shared_ptr<counting_backend> b) : basic_dead_letter_store(std::move(b)) {}
};

auto letter(std::string payload) -> pipeline::dead_letter {
  pipeline::dead_letter l;
  l.payload = std::move(payload);
  l.reason = pipeline::permanent_error("refused");
  l.pos = pipeline::position::from_integer(static_cast<std::int64_t>(l.payload.size()));
  return l;
}

TEST(basic_dead_letter_store, copies_share_one_store) {
  counting_store original;
  pipeline::basic_dead_letter_store copy = original;  // held as the front end, as users may
  const std::array letters{letter("a"), letter("bb")};
  ASSERT_TRUE(copy.write(letters, {}));
  auto read = original.read({}, std::nullopt, 10, {});
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 2U);
  EXPECT_EQ((*read)[1].letter.payload, "bb");
  EXPECT_EQ(original.calls(), 2);
}

TEST(basic_dead_letter_store, each_operation_is_one_call_of_the_backend) {
  counting_store dlq;
  const std::array letters{letter("a"), letter("bb")};
  ASSERT_TRUE(dlq.write(letters, {}));
  auto read = dlq.read({}, std::nullopt, 10, {});
  ASSERT_TRUE(read);
  const std::array resolved{(*read)[0].id};
  ASSERT_TRUE(dlq.resolve(resolved, {}));
  const std::array failures{pipeline::failed_replay{(*read)[1].id, pipeline::transient_error("again")}};
  ASSERT_TRUE(dlq.record_failure(failures, {}));
  ASSERT_EQ(dlq.entries().size(), 1U);
  EXPECT_EQ(dlq.entries()[0].attempts, 1U);
  auto purged = dlq.purge({}, {});
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1U);
  EXPECT_EQ(dlq.calls(), 5);
}

// The contract suites, run on the front end itself (a copy of a counting_store).
struct front_end_factory {
  using dlq_type = pipeline::basic_dead_letter_store;
  static constexpr auto time_precision = std::chrono::nanoseconds{1};
  auto make_dlq() -> std::unique_ptr<dlq_type> {
    last_ = counting_store{};
    return std::make_unique<dlq_type>(last_);
  }
  [[nodiscard]] auto stored() const -> std::vector<pipeline::dead_letter> { return last_.entries(); }

 private:
  counting_store last_;
};

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(basic_dead_letter_store, dead_letter_sink_contract,
                               ::testing::Types<front_end_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(basic_dead_letter_store, dead_letter_store_contract,
                               ::testing::Types<front_end_factory>);
}  // namespace pipeline::testing
