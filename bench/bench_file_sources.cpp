// The file sources against hostile input: for each shape, files of 3 or 4 sizes are read to the
// end through csv_source or jsonl_source, each read in a fresh child process so that its peak
// RSS (VmHWM) is its own. Prints, per shape and size, the median over the repetitions of the
// wall time, the time per MB relative to the shape's smallest size (1.0 everywhere means
// linear), and the peak RSS, with what was read (records, dead letters). Run it as
//
//     bench_file_sources [repetitions=3] [directory for the files=/tmp]
//
// The baseline is the measurement of the sources before they were bounded by bytes
// (docs/benchmarks.md): 400 CSV rows of 100k empty fields peaked at 2.83 GB; JSONL objects of
// 12.5k, 25k, 50k and 100k members took 0.21, 0.46, 2.2 and 9.9 s.

#include <pipeline/file/csv_source.hpp>
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
#include <string>
#include <string_view>
#include <vector>

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
  return {
      {"csv_100k_empty_fields", "CSV rows of 100k empty fields (rows), defaults: each over max_fields",
       {100, 400, 1600}, empty_fields(100'000),
       [=](auto& p, auto& n, auto& r) { read_all<file::csv_source>(csv_defaults, p, n, r); }},
      {"csv_60k_empty_fields", "CSV rows of 60k empty fields (rows), defaults: read, batches cut by max_batch_bytes",
       {100, 200, 400}, empty_fields(60'000),
       [=](auto& p, auto& n, auto& r) { read_all<file::csv_source>(csv_defaults, p, n, r); }},
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
       [](int mb, auto& out) {
         const std::string chunk(1 << 20, 'x');
         out << "{\"a\":\"";
         for (int i = 0; i < mb; ++i) out << chunk;
         out << "\"}\n";
       },
       [=](auto& p, auto& n, auto& r) { read_all<file::jsonl_source>(jsonl_defaults, p, n, r); }},
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
  const int repetitions = argc > 1 ? std::atoi(argv[1]) : 3;
  const std::filesystem::path dir = argc > 2 ? argv[2] : "/tmp";
  const auto path = dir / "bench_file_sources.input";
  std::printf("| shape | size | file MB | records | dead letters | time s (median of %d) | s/MB vs smallest | peak RSS MB |\n"
              "|---|---|---|---|---|---|---|---|\n",
              repetitions);
  for (const auto& s : shapes()) {
    double first_per_mb = 0;
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
      std::printf("| %s | %d | %.1f | %zu | %zu | %.3f | %.2f | %.0f |\n", s.name, size, mb, m.records, m.rejected, t,
                  t / mb / first_per_mb, median(peaks));
      std::fflush(stdout);
    }
  }
  std::filesystem::remove(path);
  std::printf("\nShapes:\n");
  for (const auto& s : shapes()) std::printf("- %s: %s\n", s.name, s.what);
  return 0;
}
