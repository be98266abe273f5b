#pragma once

// Shared by the tests of pipeline::file: a scratch directory per test, whole-file helpers, and
// reading a source to its end.

#include <stdlib.h>  // mkdtemp

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <pipeline/batch.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/record.hpp>
#include <pipeline/source.hpp>

// GoogleTest prints records and dead letters readably when a comparison fails.
namespace pipeline {
inline void PrintTo(const record& r, std::ostream* os) { *os << fmt::format("{}", r); }
inline void PrintTo(const dead_letter& d, std::ostream* os) {
  *os << fmt::format("{{payload: {}, reason: {}, attempts: {}, pos: {}}}", value{d.payload}, d.reason, d.attempts,
                     value{d.pos.bytes()});
}
}  // namespace pipeline

namespace file_test {

/// A fresh directory under the system's temporary directory, removed with all it holds when
/// destroyed.
class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pipeline-file-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = pattern;
  }
  scratch_dir(const scratch_dir&) = delete;
  auto operator=(const scratch_dir&) -> scratch_dir& = delete;
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  [[nodiscard]] auto path() const -> const std::filesystem::path& { return path_; }
  [[nodiscard]] auto operator/(std::string_view name) const -> std::filesystem::path { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline auto read_file(const std::filesystem::path& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// Constructing a `Source` from `options` throws std::invalid_argument naming `option`.
template <class Source, class Options>
void expect_invalid_argument_naming(Options options, std::string_view option) {
  try {
    Source src{std::move(options)};
    ADD_FAILURE() << "no exception for " << option;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string_view(e.what()).find(option), std::string_view::npos) << e.what();
  }
}

/// Every batch of `src` until it is exhausted; an error fails the test and ends the list.
template <pipeline::source S>
auto drain(S& src) -> std::vector<pipeline::batch<pipeline::source_value_t<S>>> {
  std::vector<pipeline::batch<pipeline::source_value_t<S>>> out;
  for (;;) {
    auto next = src.next_batch({});
    EXPECT_TRUE(next) << fmt::format("{}", next.error());
    if (!next || !*next) return out;
    out.push_back(std::move(**next));
  }
}

/// Every batch of a `Source` made from `options` over a file `name` holding `text`.
template <class Source, class Options>
auto read_text(std::string_view text, Options options, std::string_view name) {
  scratch_dir dir;
  write_file(dir / name, text);
  options.path = dir / name;
  Source src{std::move(options)};
  return drain(src);
}

/// The good records of `batches`, in order.
template <class T>
auto records_of(const std::vector<pipeline::batch<T>>& batches) -> std::vector<T> {
  std::vector<T> out;
  for (const auto& b : batches) out.insert(out.end(), b.records.begin(), b.records.end());
  return out;
}

/// The rejected entries of `batches`, in order.
template <class T>
auto rejected_of(const std::vector<pipeline::batch<T>>& batches) -> std::vector<pipeline::dead_letter> {
  std::vector<pipeline::dead_letter> out;
  for (const auto& b : batches) out.insert(out.end(), b.rejected.begin(), b.rejected.end());
  return out;
}

/// The one entry `batches` rejected (a test failure if not exactly one), and its records.
struct rejection {
  pipeline::dead_letter letter;
  std::vector<pipeline::record> records;
};

inline auto only_rejection(const std::vector<pipeline::batch<pipeline::record>>& batches) -> rejection {
  const auto rejected = rejected_of(batches);
  EXPECT_EQ(rejected.size(), 1u);
  return {rejected.empty() ? pipeline::dead_letter{} : rejected.front(), records_of(batches)};
}

/// Each batch as text (records, end, and each rejection's payload, position and message but
/// not its time), to compare two reads of one file.
inline auto describe(const std::vector<pipeline::batch<pipeline::record>>& batches) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& b : batches) {
    std::string text = fmt::format("end {}:", b.end.bytes());
    for (const auto& r : b.records) text += fmt::format(" {}", r);
    for (const auto& d : b.rejected) {
      text += fmt::format(" rejected {} at {} ({})", pipeline::value{d.payload}, d.pos.bytes(), d.reason.message);
    }
    out.push_back(std::move(text));
  }
  return out;
}

/// A fresh `Source{options}` (as a restarted process would make) sought to each batch's end
/// reads exactly the batches after it.
template <class Source, class Options>
void expect_every_resume_yields_the_rest(const Options& options) {
  Source first{options};
  const auto all = drain(first);
  ASSERT_GT(all.size(), 2u);
  const auto expected = describe(all);
  for (std::size_t k = 0; k < all.size(); ++k) {
    Source resumed{options};
    ASSERT_TRUE(resumed.seek(all[k].end));
    const std::vector rest(expected.begin() + static_cast<std::ptrdiff_t>(k) + 1, expected.end());
    EXPECT_EQ(describe(drain(resumed)), rest) << "after batch " << k;
  }
}

/// What a fresh `Source{options}` rejects after seeking to the end of the first batch.
template <class Source, class Options>
auto rejected_after_resuming_at_the_first_batch(const Options& options) -> std::vector<pipeline::dead_letter> {
  Source src{options};
  auto first = src.next_batch({});
  EXPECT_TRUE(first && *first);
  Source resumed{options};
  EXPECT_TRUE(first && *first && resumed.seek((*first)->end));
  return rejected_of(drain(resumed));
}

}  // namespace file_test
