-- wrk script for bench/dataservices.sh: every request is GET BENCH_DS_PATH<id> with an id drawn
-- at random from 1..BENCH_DS_ROWS (every row exists), and done() prints report.lua's BENCH line.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local base = os.getenv("BENCH_DS_PATH") or "/"
local rows = tonumber(os.getenv("BENCH_DS_ROWS") or "1") or 1

function init(args)
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", base .. math.random(1, rows))
end
