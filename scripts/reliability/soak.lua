-- wrk script for scripts/reliability/soak.sh: every request takes the next path of SOAK_PATHS (a
-- comma-separated list; each thread starts at a different one), and done() prints one
-- machine-readable line that soak.sh parses.
local paths = {}
for p in string.gmatch(os.getenv("SOAK_PATHS") or "/", "([^,]+)") do
  paths[#paths + 1] = p
end
local counter = 0
local thread_index = 0

function setup(thread)
  thread:set("offset", thread_index)
  thread_index = thread_index + 1
end

function init(args)
  counter = tonumber(offset) or 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d duration_us=%d err_connect=%d err_read=%d err_write=%d " ..
    "err_status=%d err_timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
