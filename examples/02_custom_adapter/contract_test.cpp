// The custom adapters pass the same contract suites as the library's own.
#include <pipeline/testing/testing.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "directory_store.hpp"

namespace {

// A fresh directory per factory (GoogleTest makes one factory per test), removed afterwards.
class scratch_dir {
 public:
  scratch_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("pipeline-example-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
  }
  ~scratch_dir() { std::filesystem::remove_all(path_); }
  scratch_dir(const scratch_dir&) = delete;
  auto operator=(const scratch_dir&) -> scratch_dir& = delete;
  [[nodiscard]] auto path() const -> const std::filesystem::path& { return path_; }

 private:
  std::filesystem::path path_;
};

auto make_note(std::size_t i) -> note {
  char key[32];
  std::snprintf(key, sizeof key, "note-%06zu", i);  // fixed width: key order is number order
  return note{key, "body of note " + std::to_string(i) + std::string(i % 7, '!')};
}

struct directory_sink_factory {
  using sink_type = example::directory_sink;
  static constexpr bool idempotent = true;
  static constexpr bool thread_safe = true;
  auto make_sink() -> std::unique_ptr<sink_type> { return std::make_unique<sink_type>(dir.path()); }
  static auto make_record(std::size_t i) -> note { return make_note(i); }
  auto stored() -> std::vector<note> {
    example::directory_source all{dir.path(), 1'000'000};
    auto b = all.next_batch({});
    return b && *b ? (*b)->records : std::vector<note>{};
  }
  scratch_dir dir;
};

struct directory_source_factory {
  using source_type = example::directory_source;
  auto make_source(std::size_t count) -> std::unique_ptr<source_type> {
    example::directory_sink sink{dir.path()};
    std::vector<note> notes;
    for (std::size_t i = 0; i < count; ++i) notes.push_back(make_note(i));
    EXPECT_TRUE(sink.write(std::span{std::as_const(notes)}, {}));
    return std::make_unique<source_type>(dir.path(), 16);
  }
  static auto make_record(std::size_t i) -> note { return make_note(i); }
  scratch_dir dir;
};

TEST(directory_sink, a_key_that_is_not_a_safe_file_name_is_invalid_input) {
  scratch_dir dir;
  example::directory_sink sink{dir.path()};
  for (const char* key : {"../escape", "", ".hidden", "a/b"}) {
    std::vector<note> one{note{key, "x"}};
    auto r = sink.write(std::span{std::as_const(one)}, {});
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input) << key;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path().parent_path() / "escape"));
}

TEST(directory_sink, a_directory_that_became_a_file_is_a_permanent_errno_error) {
  scratch_dir dir;
  example::directory_sink sink{dir.path() / "target"};
  std::filesystem::remove_all(dir.path() / "target");
  std::ofstream(dir.path() / "target") << "not a directory any more";
  std::vector<note> one{note{"k", "v"}};
  auto r = sink.write(std::span{std::as_const(one)}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::permanent);
  EXPECT_EQ(r.error().backend, "errno");
  EXPECT_EQ(r.error().native_code, ENOTDIR);
}

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(directory_sink, sink_contract, ::testing::Types<directory_sink_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(directory_source, source_contract, ::testing::Types<directory_source_factory>);
}  // namespace pipeline::testing
