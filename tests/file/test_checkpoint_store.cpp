#include <pipeline/file/checkpoint_store.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "file_test_support.hpp"
#include "support/shared_checkpoint_store.hpp"

namespace {

using pipeline::error_kind;
using pipeline::position;
namespace file = pipeline::file;

// Every path below `dir`, relative to it.
auto tree(const std::filesystem::path& dir) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    out.push_back(entry.path().lexically_relative(dir).string());
  }
  return out;
}

TEST(file_checkpoint_store, hostile_keys_stay_inside_the_directory_each_in_its_own_file) {
  file_test::scratch_dir dir;
  file::checkpoint_store store{dir / "cp"};
  const std::vector<std::string> keys{"../escape", "/etc/passwd", "a/../../b", "..", ".", "", std::string("nul\0x", 5),
                                      "%2E%2E", "orders/p3", "orders%2Fp3", "\xff\xfe", "a b\n"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto v = store.save(keys[i], position::from_integer(static_cast<std::int64_t>(i)), 0);
    ASSERT_TRUE(v) << i << ": " << fmt::format("{}", v.error());
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(store.load(keys[i])->pos, position::from_integer(static_cast<std::int64_t>(i))) << i;
  }
  const std::regex safe_name{R"(cp(/[A-Za-z0-9_%-]*\.(checkpoint|lock))?)"};
  for (const auto& path : tree(dir.path())) EXPECT_TRUE(std::regex_match(path, safe_name)) << path;
  EXPECT_FALSE(std::filesystem::exists(dir / "cp" / "orders" / "p3.checkpoint"));
}

TEST(file_checkpoint_store, keys_lists_the_saved_keys_in_order_and_none_for_a_missing_directory) {
  file_test::scratch_dir dir;
  file::checkpoint_store store{dir / "cps"};
  EXPECT_EQ(store.keys().value(), std::vector<std::string>{});
  EXPECT_FALSE(std::filesystem::exists(dir / "cps"));  // looking creates nothing
  for (const auto* key : {"reports/2026-05", "listings/p0", "../x"}) {
    ASSERT_TRUE(store.save(key, position::from_integer(1), 0));
  }
  file_test::write_file(dir / "cps" / "notes.txt", "not a checkpoint");
  EXPECT_EQ(store.keys().value(), (std::vector<std::string>{"../x", "listings/p0", "reports/2026-05"}));
}

TEST(file_checkpoint_store, keys_are_escaped_as_documented) {
  file_test::scratch_dir dir;
  file::checkpoint_store store{dir.path()};
  ASSERT_TRUE(store.save("orders/p3", position{"x"}, 0));
  ASSERT_TRUE(store.save("../x", position{"x"}, 0));
  EXPECT_TRUE(std::filesystem::exists(dir / "orders%2Fp3.checkpoint"));
  EXPECT_TRUE(std::filesystem::exists(dir / "%2E%2E%2Fx.checkpoint"));
}

TEST(file_checkpoint_store, a_key_longer_than_200_bytes_escaped_is_invalid_input) {
  file_test::scratch_dir dir;
  file::checkpoint_store store{dir.path()};
  EXPECT_TRUE(store.save(std::string(200, 'k'), position{"x"}, 0));
  for (const auto& key : {std::string(201, 'k'), std::string(67, '/')}) {
    auto saved = store.save(key, position{"x"}, 0);
    ASSERT_FALSE(saved);
    EXPECT_EQ(saved.error().kind, error_kind::invalid_input);
    auto loaded = store.load(key);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().kind, error_kind::invalid_input);
  }
}

TEST(file_checkpoint_store, of_processes_racing_on_one_key_exactly_one_wins) {
  file_test::scratch_dir dir;
  file::checkpoint_store store{dir / "cp"};
  ASSERT_TRUE(store.save("race", position::from_integer(0), 0));
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  constexpr int racers = 6;
  std::vector<pid_t> children;
  for (int i = 0; i < racers; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char byte = 0;
      [[maybe_unused]] const auto n = ::read(go[0], &byte, 1);  // returns when the parent closes the pipe
      file::checkpoint_store mine{dir / "cp"};
      auto r = mine.save("race", position::from_integer(i + 1), 1);
      ::_exit(r ? 0 : r.error().kind == error_kind::conflict ? 1 : 2);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);  // all start at once
  int winners = 0;
  int conflicts = 0;
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    winners += WEXITSTATUS(status) == 0 ? 1 : 0;
    conflicts += WEXITSTATUS(status) == 1 ? 1 : 0;
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(conflicts, racers - 1);
  auto cp = store.load("race");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->version, 2u);
  EXPECT_NE(cp->pos, position::from_integer(0));
}

TEST(file_checkpoint_store, a_corrupt_checkpoint_file_is_a_permanent_error_naming_it) {
  for (const auto* content : {"garbage", "", "{\"format\":1,\"version\":0,\"position\":\"\"}",
                              "{\"format\":2,\"version\":1,\"position\":\"\"}",
                              "{\"format\":1,\"version\":1,\"position\":\"not base64!\"}", "{\"format\":1}", "[]"}) {
    file_test::scratch_dir dir;
    file::checkpoint_store store{dir.path()};
    ASSERT_TRUE(store.save("k", position{"x"}, 0));
    file_test::write_file(dir / "k.checkpoint", content);
    auto loaded = store.load("k");
    ASSERT_FALSE(loaded) << content;
    EXPECT_EQ(loaded.error().kind, error_kind::permanent) << content;
    EXPECT_THAT(loaded.error().message, ::testing::HasSubstr("k.checkpoint' is corrupt")) << content;
    auto saved = store.save("k", position{"y"}, 1);
    ASSERT_FALSE(saved) << content;
    EXPECT_EQ(saved.error().kind, error_kind::permanent) << content;
  }
}

TEST(file_checkpoint_store, checkpoints_outlive_the_store_object) {
  file_test::scratch_dir dir;
  ASSERT_TRUE(file::checkpoint_store{dir.path()}.save("k", position{"kept"}, 0));
  auto cp = file::checkpoint_store{dir.path()}.load("k");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->pos, position{"kept"});
  EXPECT_EQ(cp->version, 1u);
}

TEST(file_checkpoint_store, a_save_leaves_no_temporary_file) {
  file_test::scratch_dir dir;
  file::checkpoint_store store{dir.path()};
  ASSERT_TRUE(store.save("k", position{"1"}, 0));
  ASSERT_TRUE(store.save("k", position{"2"}, 1));
  EXPECT_THAT(tree(dir.path()), ::testing::UnorderedElementsAre("k.checkpoint", "k.lock"));
}

TEST(file_checkpoint_store, a_directory_under_a_regular_file_is_a_permanent_enotdir_error) {
  file_test::scratch_dir dir;
  file_test::write_file(dir / "plain", "x");
  file::checkpoint_store store{dir / "plain" / "cp"};
  auto loaded = store.load("k");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind, error_kind::permanent);
  EXPECT_EQ(loaded.error().native_code, ENOTDIR);
  auto saved = store.save("k", position{"x"}, 0);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().kind, error_kind::permanent);
  EXPECT_EQ(saved.error().backend, "errno");
}

TEST(file_checkpoint_store, an_empty_directory_throws_invalid_argument) {
  EXPECT_THROW(file::checkpoint_store{""}, std::invalid_argument);
}

TEST(file_checkpoint_store, copies_held_as_basic_checkpoint_store_share_the_directory) {
  file_test::scratch_dir dir;
  pipeline::test::expect_copies_share_one_store(file::checkpoint_store{dir / "cp"}, "orders/p3");
}

}  // namespace
