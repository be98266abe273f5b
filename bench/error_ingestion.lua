-- wrk script for bench/error_ingestion_load.sh: POST /errors/log with JSON bodies from 1,000
-- distinct errors ("step-k1" … "step-k3e8"; their numbers and hex ids vary, as real ones do), built once per thread, and
-- a summary line with p50/p95/p99 in microseconds, requests and errors that the script parses.
-- An optional argument (after --) is a think time in milliseconds: each connection then waits
-- that long after an answer before its next request, like a user (latency is measured from
-- the request, without the wait).
local bodies = {}
local next_body = 1
local think_ms = 0

function init(args)
  think_ms = tonumber(args[1] or "0") or 0
  local services = { "checkout", "search", "billing", "auth" }
  for i = 1, 1000 do
    local body = string.format(
      '{"service":"%s","type":"E%d","message":"failure %d in step-k%x after %d ms at 0x%08x"}',
      services[i % 4 + 1], i % 50, math.random(1, 100000), i, math.random(1, 5000), math.random(0, 2147483647))
    bodies[i] = wrk.format("POST", "/errors/log", { ["Content-Type"] = "application/json" }, body)
  end
end

function request()
  local r = bodies[next_body]
  next_body = next_body % #bodies + 1
  return r
end

function delay()
  return think_ms
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("SUMMARY p50_us=%d p95_us=%d p99_us=%d max_us=%d requests=%d seconds=%.2f errors=%d non2xx=%d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, summary.requests,
    summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status))
end
