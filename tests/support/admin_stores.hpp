#pragma once
// What pipeline-admin and the console are tested on, written through the library's own stores
// (tests/tools/admin_fixture.cpp, tests/console/): job "listings" with a run that crashed
// (owner elsewhere:4242, marked by the next begin_run) and a completed one; job
// "reports/2026-05" running; checkpoints "listings/p0" at 4200 and "reports/2026-05" at 7; four
// dead letters; and the hostile letters below.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/checkpoint.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/job_log.hpp>

namespace pipeline::test {

using clock_type = std::chrono::system_clock;

inline auto at(int day, int hour) -> clock_type::time_point {
  return clock_type::time_point{std::chrono::sys_days{std::chrono::year{2026} / 5 / day}} + std::chrono::hours{hour};
}

inline auto letter(std::string payload, pipeline::error_kind kind, std::string message, std::uint32_t partition,
                   std::int64_t pos, clock_type::time_point time, std::string job) -> pipeline::dead_letter {
  return {.payload = std::move(payload),
          .reason = {.kind = kind, .message = std::move(message), .native_code = 0, .backend = "test"},
          .attempts = 1,
          .pos = pipeline::position::from_integer(pos),
          .partition = partition,
          .time = time,
          .job = std::move(job)};
}

template <class JobLog, class Checkpoints, class DeadLetters>
void fill_admin_stores(JobLog& log, Checkpoints& checkpoints, DeadLetters& letters) {
  using namespace std::chrono_literals;
  const auto now = clock_type::now();
  // A run whose process died on another host: its lease ran out, so the next start marks it.
  pipeline::job_run dead;
  dead.job = "listings";
  dead.state = pipeline::run_state::running;
  dead.owner = "elsewhere:4242";
  dead.read = 500;
  dead.written = 480;
  dead.created = now - 10min;
  dead.updated = now - 5min;
  dead.lease_until = now - 4min;
  dead.id = log.create(dead).value();
  auto next = pipeline::begin_run(log, "listings", {.lease = 30s, .owner = "admin-test:1"}, now).value();
  next.read = 1000;
  next.written = 998;
  next.dead_lettered = 2;
  pipeline::finish_run(log, next, pipeline::run_state::completed, "", now).value();
  (void)pipeline::begin_run(log, "reports/2026-05", {.lease = 1h, .owner = "reporter:7"}, now).value();

  (void)checkpoints.save("listings/p0", pipeline::position::from_integer(4200), 0).value();
  (void)checkpoints.save("reports/2026-05", pipeline::position::from_integer(7), 0).value();

  const std::vector<pipeline::dead_letter> written{
      letter("{\"id\":1}", pipeline::error_kind::permanent, "duplicate key", 0, 11, at(1, 10), "listings"),
      letter("{\"id\":2,\"price\":\"x\"}", pipeline::error_kind::invalid_input, "price is not a number", 1, 12,
             at(2, 10), "listings"),
      letter("{\"id\":3,\"note\":\"needle\"}", pipeline::error_kind::permanent, "too long", 1, 13, at(3, 10),
             "reports/2026-05"),
      letter("{\"id\":4}", pipeline::error_kind::permanent, "duplicate key", 2, 14, at(4, 10), "listings")};
  letters.write(written, {}).value();
}

// Letters the console must show safely: HTML in a payload and in a reason, and a payload of
// 10 KiB (over the console's 4 KiB list limit).
inline constexpr std::string_view hostile_payload = R"({"name":"<script>alert('x')</script>"})";
inline constexpr std::string_view hostile_reason = "<img src=x onerror=alert(1)>";

inline auto hostile_letters() -> std::vector<pipeline::dead_letter> {
  const auto now = clock_type::now();
  return {letter(std::string(hostile_payload), pipeline::error_kind::invalid_input, std::string(hostile_reason), 0, 20,
                 now, "listings"),
          letter(std::string(10240, 'x'), pipeline::error_kind::permanent, "too large", 0, 21, now, "listings")};
}

}  // namespace pipeline::test
