#include <pipeline/basic_checkpoint_store.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace {

using pipeline::position;

static_assert(pipeline::checkpoint_store<pipeline::basic_checkpoint_store>);
static_assert(std::is_copy_constructible_v<pipeline::basic_checkpoint_store>);
static_assert(!std::is_default_constructible_v<pipeline::basic_checkpoint_store>);  // only adapters make one

// A backend over a map, counting the calls that reach it (single-threaded tests only).
class map_backend final : public pipeline::detail::checkpoint_backend {
 public:
  auto load(std::string_view key) -> pipeline::result<pipeline::checkpoint> override {
    ++calls;
    auto found = stored.find(std::string(key));
    if (found == stored.end()) return pipeline::checkpoint{};
    return found->second;
  }
  auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> pipeline::result<std::uint64_t> override {
    ++calls;
    auto& cp = stored[std::string(key)];
    if (cp.version != expected_version) return pipeline::conflict_error("moved on");
    cp = pipeline::checkpoint{pos, expected_version + 1};
    return cp.version;
  }
  auto keys() -> pipeline::result<std::vector<std::string>> override {
    ++calls;
    std::vector<std::string> out;
    for (const auto& entry : stored) out.push_back(entry.first);
    return out;
  }

  std::map<std::string, pipeline::checkpoint> stored;
  std::atomic<int> calls{0};  // a backend is called from any thread
};

// What an adapter looks like: its own name, made over its backend.
class map_store : public pipeline::basic_checkpoint_store {
 public:
  explicit map_store(std::shared_ptr<map_backend> backend) : basic_checkpoint_store(std::move(backend)) {}
  [[nodiscard]] auto calls() const -> int { return static_cast<map_backend&>(backend()).calls; }
};

TEST(basic_checkpoint_store, each_operation_reaches_the_backend_once) {
  auto backend = std::make_shared<map_backend>();
  pipeline::basic_checkpoint_store store = map_store{backend};
  EXPECT_EQ(store.save("a", position::from_integer(7), 0).value(), 1U);
  EXPECT_EQ(store.load("a").value(), (pipeline::checkpoint{position::from_integer(7), 1}));
  EXPECT_EQ(store.keys().value(), std::vector<std::string>{"a"});
  EXPECT_EQ(backend->calls, 3);
}

TEST(basic_checkpoint_store, copies_share_one_store) {
  const map_store made{std::make_shared<map_backend>()};
  pipeline::basic_checkpoint_store first = made;
  auto second = first;
  ASSERT_TRUE(first.save("orders/p3", position::from_integer(1), 0));
  EXPECT_EQ(second.load("orders/p3")->version, 1U);
  EXPECT_EQ(second.save("orders/p3", position::from_integer(2), 0).error().kind, pipeline::error_kind::conflict);
  EXPECT_EQ(made.calls(), 3);
}

}  // namespace
