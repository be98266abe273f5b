// The file sources against hostile input: for each shape, files of 3 or 4 sizes are read to the
// end through csv_source, jsonl_source or dead_letter_file_source, each read in a fresh child
// process so that its peak RSS (VmHWM) is its own. Prints, per shape and size, the median over the repetitions of the
// wall time, the time per MB relative to the shape's smallest size (1.0 everywhere means
// linear), the time ratio to the next smaller size beside the size ratio (what linear time
// gives: 2 when the size doubles), and the peak RSS, with what was read (records, dead
// letters). Run it as
//
//     bench_file_sources [--repetitions 3] [--dir /tmp] [--shapes name,name,...]
//
// The baseline is the issue's measurement of the sources before they were bounded by bytes
// (docs/benchmarks.md): 400 CSV rows of 100k empty fields peaked at 2.83 GB; JSONL objects of
// 12.5k, 25k, 50k and 100k members took 0.21, 0.46, 2.2 and 9.9 s; and, measured here, a
// dead-letter file of 400 entries with 1 MB jobs peaked at 406 MB before jobs were counted.

#include <pipeline/file/csv_source.hpp>
#include <pipeline/file/dead_letter_file_source.hpp>
#include <pipeline/file/jsonl_source.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <string>
#include <string_view>
#include <vector>

#include "flags.hpp"

namespace {

namespace file = pipeline::file;

struct shape {
  const char* name;
  const char* what;         // the shape and the options it is read with, for the table
  std::vector<int> sizes;   // the generator's parameter, one file per size
  std::function<void(int, std::ofstream&)> write;
  std::function<void(const std::filesystem::path&, std::size_t&, std::size_t&)> read;  // records, rejected
};

template <class Source, class Options>
void read_all(Options options, const std::filesystem::path& path, std::size_t& records, std::size_t& rejected) {
  options.path = path;
  Source src{std::move(options)};
  for (;;) {
    auto next = src.next_batch({});
    if (!next) {
      std::fprintf(stderr, "read failed: %s\n", next.error().message.c_str());
      std::exit(1);
    }
    if (!*next) return;
    records += (*next)->records.size();
    rejected += (*next)->rejected.size();
  }
}

// `rows` CSV rows of `fields` empty fields each, without a header.
auto empty_fields(int fields) {
  return [fields](int rows, std::ofstream& out) {
    const std::string row = std::string(static_cast<std::size_t>(fields - 1), ',') + "\n";
    for (int i = 0; i < rows; ++i) out << row;
  };
}

// `rows` CSV rows of `fields` empty fields each, after a header naming them with 16-byte names
// (the header fits max_record_bytes), which each record holds its own copy of: a heap block
// each, one byte too long for the short string.
auto empty_fields_long_names(int fields) {
  return [fields](int rows, std::ofstream& out) {
    for (int f = 0; f < fields; ++f) out << (f ? "," : "") << "column_" << std::setw(9) << std::setfill('0') << f;
    out << "\n";
    const std::string row = std::string(static_cast<std::size_t>(fields - 1), ',') + "\n";
    for (int i = 0; i < rows; ++i) out << row;
  };
}

// `entries` dead-letter file entries, each with a job name of 1 MB.
void long_jobs(int entries, std::ofstream& out) {
  const std::string job(1 << 20, 'j');
  for (int i = 0; i < entries; ++i) {
    out << R"({"payload":"eA==","kind":"invalid_input","message":"bad","native_code":0,"backend":"",)"
        << R"("attempts":0,"position":"","partition":0,"time":"2026-12-05T00:00:00.000000Z","job":")" << job
        << "\"}\n";
  }
}

// One JSONL line of one string member of `mb` MB.
void huge_string_line(int mb, std::ofstream& out) {
  const std::string chunk(1 << 20, 'x');
  out << "{\"a\":\"";
  for (int i = 0; i < mb; ++i) out << chunk;
  out << "\"}\n";
}

// `lines` JSONL objects of `members` members each ("m0":0, "m1":1, ...).
void wide_objects(int lines, int members, std::ofstream& out) {
  std::string line = "{";
  for (int m = 0; m < members; ++m) line += (m ? ",\"m" : "\"m") + std::to_string(m) + "\":" + std::to_string(m);
  line += "}\n";
  for (int i = 0; i < lines; ++i) out << line;
}

auto shapes() -> std::vector<shape> {
  const file::csv_source_options csv_defaults{.has_header = false};
  const file::jsonl_source_options jsonl_defaults{};
  // Limits raised so that every wide object is parsed, to time the parser itself.
  const file::jsonl_source_options jsonl_wide{.max_record_bytes = 4 << 20, .max_members = 1 << 20};
  const file::jsonl_source_options jsonl_long_lines{.max_record_bytes = 64 << 20};
  const file::dead_letter_file_source_options dlq_defaults{};
  return {
      {"csv_100k_empty_fields", "CSV rows of 100k empty fields (rows), defaults: each over max_fields",
       {100, 400, 1600}, empty_fields(100'000),
       [=](auto& p, auto& n, auto& r) { read_all<file::csv_source>(csv_defaults, p, n, r); }},
      {"csv_60k_empty_fields", "CSV rows of 60k empty fields (rows), defaults: read, batches cut by max_batch_bytes",
       {100, 200, 400}, empty_fields(60'000),
       [=](auto& p, auto& n, auto& r) { read_all<file::csv_source>(csv_defaults, p, n, r); }},
      {"csv_60k_long_names", "CSV rows of 60k empty fields (rows) under a header of 16-byte names, defaults",
       {50, 100, 200}, empty_fields_long_names(60'000),
       [=](auto& p, auto& n, auto& r) { read_all<file::csv_source>(file::csv_source_options{}, p, n, r); }},
      {"jsonl_wide_objects", "3 JSONL lines of (members) members, max_members 1M, max_record_bytes 4 MiB",
       {12'500, 25'000, 50'000, 100'000}, [](int members, auto& out) { wide_objects(3, members, out); },
       [=](auto& p, auto& n, auto& r) { read_all<file::jsonl_source>(jsonl_wide, p, n, r); }},
      {"jsonl_wide_defaults", "3 JSONL lines of (members) members, defaults (max_members 65,536)",
       {12'500, 25'000, 50'000, 100'000}, [](int members, auto& out) { wide_objects(3, members, out); },
       [=](auto& p, auto& n, auto& r) { read_all<file::jsonl_source>(jsonl_defaults, p, n, r); }},
      {"jsonl_deep_nesting", "(lines) JSONL lines of 500k '[' then 500k ']', defaults: each over max_depth",
       {10, 40, 160},
       [](int lines, auto& out) {
         const std::string line = "{\"a\":" + std::string(500'000, '[') + std::string(500'000, ']') + "}\n";
         for (int i = 0; i < lines; ++i) out << line;
       },
       [=](auto& p, auto& n, auto& r) { read_all<file::jsonl_source>(jsonl_defaults, p, n, r); }},
      {"jsonl_huge_line", "one JSONL line of (MB) MB, defaults: over max_record_bytes",
       {16, 32, 64},
       huge_string_line,
       [=](auto& p, auto& n, auto& r) { read_all<file::jsonl_source>(jsonl_defaults, p, n, r); }},
      {"jsonl_huge_string", "one JSONL line of one string member of (MB) MB, max_record_bytes 64 MiB: read",
       {4, 8, 16},
       huge_string_line,
       [=](auto& p, auto& n, auto& r) { read_all<file::jsonl_source>(jsonl_long_lines, p, n, r); }},
      {"dead_letter_file_long_jobs", "(entries) dead-letter file entries with a 1 MB job name each, defaults",
       {100, 200, 400}, long_jobs,
       [=](auto& p, auto& n, auto& r) { read_all<file::dead_letter_file_source>(dlq_defaults, p, n, r); }},
      {"jsonl_out_of_range_numbers", "(lines) JSONL lines of 3 out-of-range numbers, defaults: each a dead letter",
       {50'000, 100'000, 200'000},
       [](int lines, auto& out) {
         for (int i = 0; i < lines; ++i) out << "{\"i\":-9223372036854775809,\"d\":1e400,\"u\":1e-400}\n";
       },
       [=](auto& p, auto& n, auto& r) { read_all<file::jsonl_source>(jsonl_defaults, p, n, r); }},
  };
}

auto peak_rss_kb() -> long {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

struct measurement {
  double seconds = 0;
  long peak_kb = 0;
  std::size_t records = 0;
  std::size_t rejected = 0;
};

// The child: reads one file and writes its measurement to stdout.
auto child(const std::string& shape_name, const std::filesystem::path& path) -> int {
  for (const auto& s : shapes()) {
    if (shape_name != s.name) continue;
    std::size_t records = 0;
    std::size_t rejected = 0;
    const auto start = std::chrono::steady_clock::now();
    s.read(path, records, rejected);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("%.6f %ld %zu %zu\n", took.count(), peak_rss_kb(), records, rejected);
    return 0;
  }
  return 2;
}

auto measure(const char* self, const char* shape_name, const std::filesystem::path& path) -> measurement {
  int out[2];
  if (::pipe(out) != 0) std::exit(1);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::execl(self, self, "--child", shape_name, path.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(out[1]);
  char text[256] = {};
  std::size_t got = 0;
  for (ssize_t n = 0; (n = ::read(out[0], text + got, sizeof text - 1 - got)) > 0;) got += static_cast<std::size_t>(n);
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  measurement m;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      std::sscanf(text, "%lf %ld %zu %zu", &m.seconds, &m.peak_kb, &m.records, &m.rejected) != 4) {
    std::fprintf(stderr, "%s on %s failed\n", shape_name, path.c_str());
    std::exit(1);
  }
  return m;
}

auto median(std::vector<double> v) -> double {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  if (argc == 4 && std::string_view(argv[1]) == "--child") return child(argv[2], argv[3]);
  int repetitions = 3;
  std::filesystem::path dir = "/tmp";
  std::vector<std::string> only;  // shape names; empty: all
  bench::parse_flags(argc, argv,
                     {{"--repetitions", [&](const std::string& v) { repetitions = std::stoi(v); }},
                      {"--dir", [&](const std::string& v) { dir = v; }},
                      {"--shapes", [&](const std::string& v) { only = bench::comma_list(v); }}});
  const auto path = dir / "bench_file_sources.input";
  std::printf("| shape | size | file MB | records | dead letters | time s (median of %d) | s/MB vs smallest "
              "| time / previous size's (linear) | peak RSS MB |\n"
              "|---|---|---|---|---|---|---|---|---|\n",
              repetitions);
  for (const auto& s : shapes()) {
    if (!only.empty() && std::find(only.begin(), only.end(), s.name) == only.end()) continue;
    double first_per_mb = 0;
    double previous_t = 0;
    double previous_mb = 0;
    for (const int size : s.sizes) {
      {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        s.write(size, out);
      }
      const double mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
      std::vector<double> seconds;
      std::vector<double> peaks;
      measurement m;
      for (int i = 0; i < repetitions; ++i) {
        m = measure(argv[0], s.name, path);
        seconds.push_back(m.seconds);
        peaks.push_back(static_cast<double>(m.peak_kb) / 1024);
      }
      const double t = median(seconds);
      if (first_per_mb == 0) first_per_mb = t / mb;
      const std::string ratio =
          previous_t == 0 ? std::string("-") : fmt::format("{:.2f} ({:.1f})", t / previous_t, mb / previous_mb);
      previous_t = t;
      previous_mb = mb;
      std::printf("| %s | %d | %.1f | %zu | %zu | %.3f | %.2f | %s | %.0f |\n", s.name, size, mb, m.records, m.rejected,
                  t, t / mb / first_per_mb, ratio.c_str(), median(peaks));
      std::fflush(stdout);
    }
  }
  std::filesystem::remove(path);
  std::printf("\nShapes:\n");
  for (const auto& s : shapes()) {
    if (only.empty() || std::find(only.begin(), only.end(), s.name) != only.end()) std::printf("- %s: %s\n", s.name, s.what);
  }
  return 0;
}
