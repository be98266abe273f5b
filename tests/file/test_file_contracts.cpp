// pipeline::file's adapters pass the same contract suites users run against theirs.
#include <pipeline/file/file.hpp>
#include <pipeline/testing/testing.hpp>

#include <cerrno>
#include <chrono>
#include <limits>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "file_test_support.hpp"

namespace {

using pipeline::record;
namespace file = pipeline::file;

// A note that needs quoting in CSV now and then: a quote, the delimiter, a line break.
auto note(std::size_t i) -> std::string {
  return i % 3 == 0 ? fmt::format("say \"hi\", {}\nthen go", i) : fmt::format("plain {}", i);
}

auto csv_quoted(std::string_view field) -> std::string {
  std::string out = "\"";
  for (const char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + '"';
}

struct csv_source_factory {
  using source_type = file::csv_source;
  auto make_source(std::size_t count) -> std::unique_ptr<source_type> {
    std::string text = "id,name,note\r\n";
    for (std::size_t i = 0; i < count; ++i) text += fmt::format("{},row {},{}\r\n", i, i, csv_quoted(note(i)));
    file_test::write_file(dir / "data.csv", text);
    return std::make_unique<source_type>(file::csv_source_options{.path = dir / "data.csv", .batch_size = 32});
  }
  static auto make_record(std::size_t i) -> record {
    return record{{"id", std::to_string(i)}, {"name", fmt::format("row {}", i)}, {"note", note(i)}};
  }
  file_test::scratch_dir dir;
};

struct jsonl_source_factory {
  using source_type = file::jsonl_source;
  auto make_source(std::size_t count) -> std::unique_ptr<source_type> {
    std::string text;
    for (std::size_t i = 0; i < count; ++i) {
      text += fmt::format(R"({{"id":{},"name":"row {}","score":{},"even":{},"missing":null}})", i, i,
                          static_cast<double>(i) + 0.5, i % 2 == 0);
      text += '\n';
    }
    file_test::write_file(dir / "data.jsonl", text);
    return std::make_unique<source_type>(file::jsonl_source_options{.path = dir / "data.jsonl", .batch_size = 32});
  }
  static auto make_record(std::size_t i) -> record {
    return record{{"id", static_cast<std::int64_t>(i)},
                  {"name", fmt::format("row {}", i)},
                  {"score", static_cast<double>(i) + 0.5},
                  {"even", i % 2 == 0},
                  {"missing", nullptr}};
  }
  file_test::scratch_dir dir;
};

struct jsonl_sink_factory {
  using sink_type = file::jsonl_sink;
  static constexpr bool idempotent = false;  // it appends; exactly-once comes from resume_offset
  static constexpr bool thread_safe = true;
  auto make_sink() -> std::unique_ptr<sink_type> {
    auto opened = sink_type::open({.path = dir / "out.jsonl", .buffer_bytes = 512});
    EXPECT_TRUE(opened) << fmt::format("{}", opened.error());
    auto sink = std::make_unique<sink_type>(std::move(opened).value());
    last_ = sink.get();
    return sink;
  }
  static auto make_record(std::size_t i) -> record {
    return record{{"id", static_cast<std::int64_t>(i)},
                  {"name", fmt::format("row {} \"quoted\" \u00fcnicode\n", i)},
                  {"ratio", static_cast<double>(i) / 7.0},
                  {"flag", i % 2 == 1},
                  {"none", nullptr}};
  }
  // JSON has no NaN: write_each refuses it.
  static auto make_bad_record(std::size_t i) -> record {
    auto r = make_record(i);
    r.set("ratio", std::numeric_limits<double>::quiet_NaN());
    return r;
  }
  // What the file holds once the last sink is flushed, read back with jsonl_source.
  auto stored() -> std::vector<record> {
    EXPECT_TRUE(last_->flush({}));
    file::jsonl_source src{{.path = dir / "out.jsonl"}};
    const auto batches = file_test::drain(src);
    EXPECT_TRUE(file_test::rejected_of(batches).empty());
    return file_test::records_of(batches);
  }
  file_test::scratch_dir dir;

 private:
  sink_type* last_ = nullptr;
};

// The same sink with its batch ledger, for exactly-once mode.
struct jsonl_ledger_sink_factory {
  using sink_type = file::jsonl_sink;
  auto make_sink() -> std::unique_ptr<sink_type> {
    auto opened = sink_type::open({.path = dir / "out.jsonl", .ledger = true});
    EXPECT_TRUE(opened) << fmt::format("{}", opened.error());
    return std::make_unique<sink_type>(std::move(opened).value());
  }
  static auto make_record(std::size_t i) -> record { return jsonl_sink_factory::make_record(i); }
  // What the file holds: each write_committed is durable when it returns.
  auto stored() -> std::vector<record> {
    file::jsonl_source src{{.path = dir / "out.jsonl"}};
    const auto batches = file_test::drain(src);
    EXPECT_TRUE(file_test::rejected_of(batches).empty());
    return file_test::records_of(batches);
  }
  file_test::scratch_dir dir;
};

struct checkpoint_store_factory {
  using store_type = file::checkpoint_store;
  auto make_store() -> std::unique_ptr<store_type> { return std::make_unique<store_type>(dir / "checkpoints"); }
  file_test::scratch_dir dir;
};

struct job_log_factory {
  using store_type = file::job_log;
  auto make_store() -> std::unique_ptr<store_type> { return std::make_unique<store_type>(dir / "jobs"); }
  file_test::scratch_dir dir;
};

struct dead_letter_file_factory {
  using dlq_type = file::dead_letter_file;
  static constexpr auto time_precision = std::chrono::microseconds{1};
  auto make_dlq() -> std::unique_ptr<dlq_type> { return std::make_unique<dlq_type>(dir / "dlq.jsonl"); }
  auto stored() -> std::vector<pipeline::dead_letter> {
    auto all = file::read_dead_letters(dir / "dlq.jsonl");
    EXPECT_TRUE(all) << fmt::format("{}", all.error());
    return all.value_or(std::vector<pipeline::dead_letter>{});
  }
  file_test::scratch_dir dir;
};

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(csv_source, source_contract, ::testing::Types<csv_source_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(jsonl_source, source_contract, ::testing::Types<jsonl_source_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(jsonl_sink, sink_contract, ::testing::Types<jsonl_sink_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(jsonl_sink, per_record_sink_contract, ::testing::Types<jsonl_sink_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(jsonl_sink, transactional_sink_contract, ::testing::Types<jsonl_ledger_sink_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(file_checkpoint_store, checkpoint_store_contract,
                               ::testing::Types<checkpoint_store_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(file_job_log, job_log_store_contract, ::testing::Types<job_log_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(dead_letter_file, dead_letter_sink_contract, ::testing::Types<dead_letter_file_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(dead_letter_file, dead_letter_store_contract, ::testing::Types<dead_letter_file_factory>);
}  // namespace pipeline::testing
