// An open-loop HTTP load generator: request i is due at start + i / rate, whatever happened to
// the ones before it, and its latency is timed from that due time to the last byte of its
// answer. A slow server is charged for the queue it causes (the requests waiting for a free
// connection), which a closed-loop tool like wrk leaves out: its next request waits for the
// previous answer, so a stall delays the requests instead of timing them (coordinated omission).
//
// One thread, non-blocking keep-alive connections, epoll. Bodies: the same 1,000 distinct error
// events as bench/error_ingestion.lua, POSTed to PATH as JSON.
//
//   open_loop_load --url http://127.0.0.1:PORT/errors/log --rate 5000 --seconds 10 [--connections 64]
//
// Prints one line a script can parse:
//   SUMMARY rate=… p50_us=… p95_us=… p99_us=… p999_us=… max_us=… due=… answered=… seconds=… errors=… non2xx=… unsent=…
// `due` is how many requests fell due, `answered` how many got a whole answer, `unsent` how many
// were still waiting for a connection when the run ended (their wait so far is counted as
// their latency, so an overloaded server cannot hide them). Exits 1 on bad arguments or when
// no connection could be made.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "flags.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct target {
  std::string host;
  std::uint16_t port = 0;
  std::string path;
};

auto parse_url(std::string_view url) -> std::optional<target> {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  const auto slash = url.find('/');
  const auto authority = url.substr(0, slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  target t{std::string(authority.substr(0, colon)), 0, slash == std::string_view::npos ? "/" : std::string(url.substr(slash))};
  const auto port = authority.substr(colon + 1);
  if (std::from_chars(port.data(), port.data() + port.size(), t.port).ec != std::errc{} || t.port == 0) return std::nullopt;
  return t;
}

// The requests, whole, as bench/error_ingestion.lua builds them: 1,000 distinct errors whose
// numbers and hex ids vary.
auto make_requests(const target& t) -> std::vector<std::string> {
  const char* services[] = {"checkout", "search", "billing", "auth"};
  std::mt19937 random{42};
  auto between = [&](int lo, int hi) { return std::uniform_int_distribution<int>{lo, hi}(random); };
  std::vector<std::string> requests;
  for (int i = 1; i <= 1000; ++i) {
    const auto body = fmt::format(R"({{"service":"{}","type":"E{}","message":"failure {} in step-k{:x} after {} ms at 0x{:08x}"}})",
                                  services[i % 4], i % 50, between(1, 100000), i, between(1, 5000),
                                  static_cast<unsigned>(between(0, 2147483647)));
    requests.push_back(fmt::format("POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n"
                                   "Content-Length: {}\r\n\r\n{}",
                                   t.path, t.host, t.port, body.size(), body));
  }
  return requests;
}

struct connection {
  int fd = -1;
  bool busy = false;
  clock_type::time_point due{};  // of the request in flight
  std::string out;                // what is left to send
  bool partly_sent = false;       // watched for EPOLLOUT
  std::string in;                 // the answer so far
};

auto open_connection(const target& t) -> int {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(t.port);
  if (::inet_pton(AF_INET, t.host.c_str(), &addr.sin_addr) != 1 ||
      (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The length of a whole answer at the front of `in` and its status, or nullopt while it is
// not all there. Answers carry Content-Length (cpp-httplib's do).
struct answer {
  std::size_t length;
  int status;
};
auto whole_answer(const std::string& in) -> std::optional<answer> {
  const auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos || in.size() < 12) return std::nullopt;
  int status = 0;
  std::from_chars(in.data() + 9, in.data() + 12, status);
  std::size_t body = 0;
  for (std::size_t line = in.find("\r\n") + 2; line < head_end;) {
    const auto next = in.find("\r\n", line);
    const std::string_view header{in.data() + line, next - line};
    constexpr std::string_view name = "content-length:";
    if (header.size() > name.size() &&
        std::equal(name.begin(), name.end(), header.begin(), [](char a, char b) { return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b))); })) {
      auto value = header.substr(name.size());
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      std::from_chars(value.data(), value.data() + value.size(), body);
    }
    line = next + 2;
  }
  if (in.size() < head_end + 4 + body) return std::nullopt;
  return answer{head_end + 4 + body, status};
}

auto percentile(const std::vector<std::int64_t>& sorted, double p) -> std::int64_t {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  double rate = 1000;
  double seconds = 10;
  std::size_t connections = 64;
  try {
    bench::parse_flags(argc, argv,
                       {{"--url", [&](const std::string& v) { url = v; }},
                        {"--rate", [&](const std::string& v) { rate = std::stod(v); }},
                        {"--seconds", [&](const std::string& v) { seconds = std::stod(v); }},
                        {"--connections", [&](const std::string& v) { connections = std::stoul(v); }}});
  } catch (const std::exception& e) {
    fmt::print(stderr, "open_loop_load: {}\n", e.what());
    return 1;
  }
  const auto t = parse_url(url);
  if (!t || rate <= 0 || seconds <= 0 || connections == 0) {
    fmt::print(stderr, "usage: open_loop_load --url http://IP:PORT/PATH --rate R --seconds S [--connections N]\n");
    return 1;
  }
  const auto requests = make_requests(*t);

  const int poll = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<connection> pool(connections);
  std::vector<std::size_t> idle;
  // Readable always; writable only while a request is partly sent (a level-triggered
  // EPOLLOUT on an idle socket would wake the loop at once, every time, and burn a core).
  auto watch = [&](std::size_t i, int op, bool writable) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (writable ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    ::epoll_ctl(poll, op, pool[i].fd, &ev);
  };
  auto connect_slot = [&](std::size_t i) {
    auto& c = pool[i];
    if (c.fd >= 0) {
      ::epoll_ctl(poll, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
    }
    c = connection{};
    c.fd = open_connection(*t);
    if (c.fd < 0) return false;
    watch(i, EPOLL_CTL_ADD, false);
    return true;
  };
  for (std::size_t i = 0; i < pool.size(); ++i) {
    if (!connect_slot(i)) {
      fmt::print(stderr, "open_loop_load: cannot connect to {}:{}\n", t->host, t->port);
      return 1;
    }
    idle.push_back(i);
  }

  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const auto due_count = static_cast<std::uint64_t>(rate * seconds);
  std::deque<clock_type::time_point> waiting;  // due, not sent yet: no free connection
  std::vector<std::int64_t> latencies_us;
  latencies_us.reserve(due_count);
  std::uint64_t scheduled = 0, errors = 0, non2xx = 0, next_body = 0;
  const auto start = clock_type::now() + std::chrono::milliseconds{100};  // connections settle
  const auto due_at = [&](std::uint64_t i) {
    return start + std::chrono::duration_cast<clock_type::duration>(interval * static_cast<double>(i));
  };
  const auto deadline = due_at(due_count) + std::chrono::seconds{10};  // answers still on their way

  auto send_some = [&](std::size_t i) {
    auto& c = pool[i];
    const bool was_partial = c.partly_sent;
    while (!c.out.empty()) {
      const auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      if (n < 0) break;
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    c.partly_sent = !c.out.empty();
    if (c.partly_sent != was_partial) watch(i, EPOLL_CTL_MOD, c.partly_sent);
    return true;
  };
  // The connection broke or the server closed it: a request in flight is lost (an error); a
  // fresh connection takes the slot. An idle slot is in `idle` already.
  auto fail = [&](std::size_t i) {
    const bool was_busy = pool[i].busy;
    if (was_busy) ++errors;
    if (connect_slot(i) && was_busy) idle.push_back(i);
  };

  std::vector<epoll_event> events(connections);
  for (;;) {
    const auto now = clock_type::now();
    while (scheduled < due_count && due_at(scheduled) <= now) waiting.push_back(due_at(scheduled++));
    while (!waiting.empty() && !idle.empty()) {
      const auto i = idle.back();
      idle.pop_back();
      auto& c = pool[i];
      c.busy = true;
      c.due = waiting.front();
      waiting.pop_front();
      c.out = requests[next_body++ % requests.size()];
      if (!send_some(i)) fail(i);
    }
    const bool all_idle = idle.size() == pool.size();
    if ((scheduled == due_count && waiting.empty() && all_idle) || now >= deadline) break;
    auto wait = std::chrono::milliseconds{5};
    if (scheduled < due_count) {
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(due_at(scheduled) - now));
    }
    const int n = ::epoll_wait(poll, events.data(), static_cast<int>(events.size()), static_cast<int>(std::max<std::int64_t>(0, wait.count())));
    for (std::size_t k = 0; k < static_cast<std::size_t>(std::max(n, 0)); ++k) {
      const auto i = static_cast<std::size_t>(events[k].data.u64);
      auto& c = pool[i];
      if ((events[k].events & EPOLLOUT) != 0 && !send_some(i)) {
        fail(i);
        continue;
      }
      if (!(events[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) continue;
      char buffer[16384];
      bool closed = false;
      for (;;) {
        const auto got = ::recv(c.fd, buffer, sizeof buffer, 0);
        if (got > 0) {
          c.in.append(buffer, static_cast<std::size_t>(got));
          continue;
        }
        closed = got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        break;
      }
      if (const auto a = c.busy ? whole_answer(c.in) : std::nullopt) {
        latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - c.due).count());
        if (a->status < 200 || a->status > 299) ++non2xx;
        c.in.erase(0, a->length);
        c.busy = false;
        idle.push_back(i);
      }
      if (closed) fail(i);
    }
  }
  const auto end = clock_type::now();
  // Still waiting for a connection, or for an answer, at the end: their wait so far counts.
  for (const auto due : waiting) latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(end - due).count());
  std::uint64_t unanswered = 0;
  for (auto& c : pool) {
    if (c.busy) {
      ++unanswered;
      latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(end - c.due).count());
    }
    if (c.fd >= 0) ::close(c.fd);
  }
  ::close(poll);
  const auto answered = latencies_us.size() - waiting.size() - unanswered;
  std::sort(latencies_us.begin(), latencies_us.end());
  fmt::print("SUMMARY rate={} p50_us={} p95_us={} p99_us={} p999_us={} max_us={} due={} answered={} seconds={:.2f} "
             "errors={} non2xx={} unsent={}\n",
             rate, percentile(latencies_us, 50), percentile(latencies_us, 95), percentile(latencies_us, 99),
             percentile(latencies_us, 99.9), latencies_us.empty() ? 0 : latencies_us.back(), scheduled, answered,
             std::chrono::duration<double>(end - start).count(), errors + unanswered, non2xx, waiting.size());
  return 0;
}
