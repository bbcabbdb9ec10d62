-- wrk script for bench/run.sh. With BENCH_POST_BYTES=N in the environment every request is a POST
-- with an N-byte body; with BENCH_POST_FILE=PATH it POSTs that file as JSON. done() prints one
-- machine-readable line that run.sh parses.
local post_bytes = tonumber(os.getenv("BENCH_POST_BYTES") or "0") or 0
local post_file = os.getenv("BENCH_POST_FILE") or ""
if post_file ~= "" then
  local f = assert(io.open(post_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
elseif post_bytes > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", post_bytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d err_connect=%d err_read=%d err_write=%d " ..
    "err_status=%d err_timeout=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
