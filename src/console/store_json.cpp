#include "store_json.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <pipeline/detail/job_run_fields.hpp>
#include <pipeline/detail/time_text.hpp>

namespace pipeline::admin {

using json = nlohmann::json;

auto shown_bytes(const std::string& bytes) -> std::string {
  const bool printable =
      std::ranges::all_of(bytes, [](char c) { return c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f); });
  if (printable) return bytes;
  std::string hex = "0x";
  for (const char c : bytes) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return hex;
}

auto iso_time(std::chrono::system_clock::time_point t) -> std::string { return pipeline::detail::format_iso_time(t); }

auto run_json(const job_run& run) -> json {
  json doc = json::object();
  pipeline::detail::for_each_job_run_field(run, [&](std::string_view name, const auto& value) { doc[name] = value; });
  return doc;
}

auto letter_json(const stored_dead_letter& stored, std::size_t payload_limit) -> json {
  const auto& l = stored.letter;
  const bool truncated = l.payload.size() > payload_limit;
  return {{"id", stored.id},
          {"job", l.job},
          {"kind", to_string(l.reason.kind)},
          {"message", l.reason.message},
          {"native_code", l.reason.native_code},
          {"backend", l.reason.backend},
          {"attempts", l.attempts},
          {"partition", l.partition},
          {"position", shown_bytes(l.pos.bytes())},
          {"time", iso_time(l.time)},
          {"payload", truncated ? l.payload.substr(0, payload_limit) : l.payload},
          {"payload_bytes", l.payload.size()},
          {"truncated", truncated}};
}

auto queue_json(const queue_status& status) -> json {
  json groups = json::array();
  for (const auto& g : status.groups) {
    json consumers = json::array();
    for (const auto& c : g.consumers) {
      consumers.push_back({{"name", c.name}, {"pending", c.pending}, {"idle_ms", c.idle.count()}});
    }
    groups.push_back({{"name", g.name},
                      {"pending", g.pending},
                      {"lag", g.lag ? json(*g.lag) : json(nullptr)},
                      {"last_delivered_id", g.last_delivered_id},
                      {"consumers", consumers}});
  }
  return {{"stream", status.stream}, {"length", status.length}, {"groups", groups}};
}

auto json_text(const json& value, int indent) -> std::string {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace pipeline::admin
