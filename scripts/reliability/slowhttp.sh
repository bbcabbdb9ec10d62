#!/usr/bin/env bash
# Slow-client attacks against a release build of Conflux (issue 20, reliability.md §9 rows 10-12):
# slowhttptest in its three modes — slow headers (-H, slowloris), slow body (-B, R-U-Dead-Yet) and
# slow read (-X) — each with a few thousand connections, while a prober sends a normal request to
# the HTTP port and GET /healthz to the internal port every second. Prints one summary row per mode:
# client connections held at most (the server's view), when they were cut, the prober's success
# ratio and latency, and Conflux's peak descriptors and RSS; then the connections held at 30, 60,
# 90 and 150 s into each mode (the read-mode figure of RELIABILITY.md: --only read --duration 160).
#
# Usage: scripts/reliability/slowhttp.sh [--smoke] [--connections N] [--duration S] [--only MODE]
#                                        [--no-build]
#   --smoke        short limits (deployment.toml client_* keys) and 300 connections per mode, under
#                  60 s in total; for CI. Exits 1 when a probe success ratio is below 100 %.
#   --connections  connections per mode (default 3000)
#   --duration     seconds per mode (default 90: past the 30 s head and body timeouts
#                  and the 60 s send and keep-alive timeouts)
#   --only MODE    run one mode: header, body or read (or several, quoted: "header body")
#   --no-build     use target/release/conflux (or $CONFLUX_BIN) as it is
# Needs: slowhttptest (Debian `slowhttptest`), curl, python3. Everything listens on 127.0.0.1.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SMOKE=0
CONNECTIONS=3000
DURATION=90
BUILD=1
MODES="header body read"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --connections) CONNECTIONS="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --only) MODES="$2"; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [[ $SMOKE == 1 ]]; then
    CONNECTIONS=300
    DURATION=12
fi

for tool in slowhttptest curl python3 ss; do
    command -v "$tool" >/dev/null || { echo "slowhttp.sh: $tool is not installed (Debian: apt-get install -y slowhttptest curl python3)" >&2; exit 2; }
done

BIN="${CONFLUX_BIN:-$ROOT/target/release/conflux}"
if [[ $BUILD == 1 ]]; then
    (cd "$ROOT" && cargo build --release -p conflux >&2)
fi
[[ -x $BIN ]] || { echo "slowhttp.sh: $BIN missing (run without --no-build)" >&2; exit 2; }

# Room for the attack's sockets on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK="$(mktemp -d /tmp/conflux-slowhttp.XXXXXX)"
CONFLUX_PID=""
BACKEND_PID=""
cleanup() {
    local rc=$?
    if [[ -n $CONFLUX_PID ]]; then kill "$CONFLUX_PID" 2>/dev/null || true; wait "$CONFLUX_PID" 2>/dev/null || true; fi
    if [[ -n $BACKEND_PID ]]; then kill "$BACKEND_PID" 2>/dev/null || true; wait "$BACKEND_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A backend answering every GET with 8 MiB: a response larger than the socket buffers between
# Conflux and a client that does not read, so that the slow-read mode meets the send timeout.
# asyncio with a 4096 backlog, so that it answers thousands of connections at once and the
# figures measure Conflux (`python3 -m http.server` has a backlog of 5 and one thread per
# connection: with 3000 it took up to ~40 s to start some answers, which moved their cut).
cat >"$WORK/backend.py" <<'PY'
import asyncio, sys
BODY = memoryview(b"z" * (8 * 1024 * 1024))
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % len(BODY)
CHUNK = 16 * 1024
async def answer(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(HEAD)
            for at in range(0, len(BODY), CHUNK):
                writer.write(BODY[at:at + CHUNK])
                await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()
async def main(port):
    server = await asyncio.start_server(answer, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()
asyncio.run(main(int(sys.argv[1])))
PY
BACKEND_PORT="$(free_port)"
python3 "$WORK/backend.py" "$BACKEND_PORT" >/dev/null 2>&1 &
BACKEND_PID=$!
for _ in $(seq 1 50); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$BACKEND_PORT" 2>/dev/null && break
    sleep 0.1
done

# The default home, plus one pass-through API to the static backend.
cp -r "$ROOT/home" "$WORK/home"
rm -rf "$WORK/home/repository/logs" 2>/dev/null || true
cat >"$WORK/home/repository/deployment/server/synapse-configs/default/api/BigApi.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<api xmlns="http://ws.apache.org/ns/synapse" name="BigApi" context="/big">
    <resource methods="GET" url-mapping="/*">
        <inSequence>
            <send><endpoint><address uri="http://127.0.0.1:$BACKEND_PORT"/></endpoint></send>
        </inSequence>
        <outSequence><send/></outSequence>
    </resource>
</api>
EOF
if [[ $SMOKE == 1 ]]; then
    # Short limits so that every cut happens inside the short run.
    cat >>"$WORK/home/conf/deployment.toml" <<'EOF'

[transport.http]
client_header_timeout = 3000
client_keepalive_timeout = 4000
client_body_timeout = 3000
client_send_timeout = 3000
EOF
fi

# A free offset: ask Conflux for its plan's smallest free offset from a high start.
OFFSET=""
for candidate in $(seq 200 37 2000); do
    if "$BIN" ports --home "$WORK/home" -DportOffset="$candidate" --check >/dev/null 2>&1; then
        OFFSET=$candidate
        break
    fi
done
[[ -n $OFFSET ]] || { echo "slowhttp.sh: no free port offset found" >&2; exit 2; }
PLAN="$("$BIN" ports --home "$WORK/home" -DportOffset="$OFFSET" --json)"
port_of() {
    python3 -c 'import json,sys; p=json.load(sys.stdin); print(next(x["port"] for x in p["ports"] if x["role"]==sys.argv[1]))' "$1" <<<"$PLAN"
}
HTTP_PORT="$(port_of http)"
INTERNAL_PORT="$(port_of internal_http)"

"$BIN" run --home "$WORK/home" -DportOffset="$OFFSET" >"$WORK/conflux.log" 2>&1 &
CONFLUX_PID=$!
for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$INTERNAL_PORT/healthz" && break
    sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/hello/world" || { echo "slowhttp.sh: Conflux did not start"; cat "$WORK/conflux.log"; exit 1; }
curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/big/big.bin" || { echo "slowhttp.sh: /big/big.bin not served"; exit 1; }
echo "Conflux pid $CONFLUX_PID on offset $OFFSET (http $HTTP_PORT, internal $INTERNAL_PORT); $CONNECTIONS connections, ${DURATION} s per mode" >&2

# Every second: one normal request and one /healthz, each with a 5 s limit; "mode,kind,ok,seconds".
probe() {
    local mode="$1" out="$2" end=$((SECONDS + DURATION))
    while [[ $SECONDS -lt $end ]]; do
        for target in "normal http://127.0.0.1:$HTTP_PORT/hello/world" "healthz http://127.0.0.1:$INTERNAL_PORT/healthz"; do
            set -- $target
            local result
            result="$(curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' "$2" || true)"
            local code="${result%% *}" time="${result##* }"
            [[ $code == 200 ]] && echo "$mode,$1,1,$time" || echo "$mode,$1,0,$time"
        done >>"$out"
        sleep 1
    done
}

# Every second: Conflux's descriptors, RSS (KiB) and established client connections on the HTTP
# port (the server's view: a client cut with RST may still be draining its own buffer);
# "mode,second,fds,rss_kib,established".
sample() {
    local mode="$1" out="$2" start=$SECONDS end=$((SECONDS + DURATION))
    while [[ $SECONDS -lt $end ]]; do
        local fds rss est
        fds="$(ls /proc/"$CONFLUX_PID"/fd 2>/dev/null | wc -l)"
        rss="$(awk '/VmRSS/ {print $2}' /proc/"$CONFLUX_PID"/status 2>/dev/null || echo 0)"
        est="$(ss -Htn state established "( sport = :$HTTP_PORT )" 2>/dev/null | wc -l)"
        echo "$mode,$((SECONDS - start)),$fds,$rss,$est" >>"$out"
        sleep 1
    done
}

run_mode() {
    local mode="$1"; shift
    local prefix="$WORK/$mode"
    probe "$mode" "$WORK/probes.csv" &
    local probe_pid=$!
    sample "$mode" "$WORK/samples.csv" &
    local sample_pid=$!
    # -p 5: slowhttptest's own probe; the summary uses ours.
    slowhttptest "$@" -c "$CONNECTIONS" -r "$(( CONNECTIONS / 5 > 50 ? CONNECTIONS / 5 : 50 ))" \
        -l "$DURATION" -p 5 -g -o "$prefix" >"$prefix.out" 2>&1 || true
    wait "$probe_pid" "$sample_pid" 2>/dev/null || true
    kill -0 "$CONFLUX_PID" 2>/dev/null || { echo "slowhttp.sh: Conflux died during $mode"; tail -20 "$WORK/conflux.log"; exit 1; }
    # Let the cut connections of this mode go before the next one starts.
    for _ in $(seq 1 30); do
        [[ "$(ss -Htn state established "( sport = :$HTTP_PORT )" 2>/dev/null | wc -l)" -lt 5 ]] && break
        sleep 1
    done
}

: >"$WORK/probes.csv"
: >"$WORK/samples.csv"
URL="http://127.0.0.1:$HTTP_PORT"
want() { [[ " $MODES " == *" $1 "* ]]; }
want header && run_mode header -H -i 2 -x 24 -u "$URL/hello/world"
want body && run_mode body -B -i 2 -x 24 -s 8192 -t POST -f application/json -u "$URL/greeting/Ada"
want read && run_mode read -X -k 2 -n 1 -w 64 -y 256 -z 32 -u "$URL/big/big.bin"

# Summary from the server's side: "held max" is the most established client connections on the
# HTTP port, "cut at s" the second of the mode when they first fell below 90 % of that peak (the
# attack's connections are opened in the first seconds), "held end" what was left at the end.
# A second table gives the connections held at 30, 60, 90 and 150 s into each mode ("-" when
# the mode ran shorter; use --duration 160 for the 150 s column).
python3 - "$WORK" "$SMOKE" <<'EOF'
import csv, statistics, sys, os
work, smoke = sys.argv[1], sys.argv[2] == "1"
probes, samples = {}, {}
for row in csv.reader(open(os.path.join(work, "probes.csv"))):
    probes.setdefault((row[0], row[1]), []).append((row[2] == "1", float(row[3] or 0)))
for row in csv.reader(open(os.path.join(work, "samples.csv"))):
    samples.setdefault(row[0], []).append(tuple(int(x or 0) for x in row[1:]))
failed = False
print(f"{'mode':<7} {'held max':>8} {'cut at s':>8} {'held end':>8} {'normal ok':>10} {'p50 ms':>7} {'max ms':>7} "
      f"{'healthz ok':>10} {'p50 ms':>7} {'max ms':>7} {'fds max':>7} {'RSS max MiB':>11}")
for mode in ("header", "body", "read"):
    if mode not in samples:
        continue
    s = samples[mode]
    peak = max(est for _, _, _, est in s)
    peak_at = next(sec for sec, _, _, est in s if est == peak)
    cut = next((sec for sec, _, _, est in s if sec > peak_at and est < 0.9 * peak), None)
    cells = []
    for kind in ("normal", "healthz"):
        results = probes.get((mode, kind), [])
        ok = sum(1 for good, _ in results if good)
        failed |= not results or ok < len(results)
        times = [t * 1000 for _, t in results] or [0.0]
        cells.append((f"{ok}/{len(results)}", statistics.median(times), max(times)))
    print(f"{mode:<7} {peak:>8} {str(cut) if cut is not None else '-':>8} {s[-1][3]:>8} "
          f"{cells[0][0]:>10} {cells[0][1]:>7.1f} {cells[0][2]:>7.1f} "
          f"{cells[1][0]:>10} {cells[1][1]:>7.1f} {cells[1][2]:>7.1f} "
          f"{max(f for _, f, _, _ in s):>7} {max(r for _, _, r, _ in s) / 1024:>11.1f}")
marks = (30, 60, 90, 150)
rows = []
for mode in ("header", "body", "read"):
    if mode not in samples:
        continue
    held = {sec: est for sec, _, _, est in samples[mode]}
    cells = []
    for mark in marks:
        # The sample of that second, or the nearest one after it (sampling can skip a second).
        later = [sec for sec in held if mark <= sec <= mark + 2]
        cells.append(str(held[min(later)]) if later else "-")
    rows.append((mode, cells))
if any(cell != "-" for _, cells in rows for cell in cells):
    print()
    print(f"{'mode':<7} " + " ".join(f"{'held ' + str(m) + ' s':>11}" for m in marks))
    for mode, cells in rows:
        print(f"{mode:<7} " + " ".join(f"{c:>11}" for c in cells))
sys.exit(1 if smoke and failed else 0)
EOF
