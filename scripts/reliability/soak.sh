#!/usr/bin/env bash
# Soak test (issue 20, "Soak"): a release build of Conflux serving a copy of the default home plus
# pass-through and faulted routes, under mixed load for N minutes, sampled every 10 s into a CSV
# (RSS, open descriptors, threads, and per-window throughput, latency and errors of the healthy and
# the faulted load), then a summary of the growth after warm-up. `--help` for the options.
#
# Load, in 10 s windows back to back (wrk from Debian, scripts/reliability/soak.lua):
#   healthy  wrk -c 16: pass-through to a backend, the default home's mediated JSON APIs
#            (/hello, /greeting, /orders, /transform, /forward) and its proxy service;
#            every answer must be 2xx.
#   faulted  wrk -c 16: routes whose backend (scripts/reliability/fault_backend.py) refuses, resets,
#            cuts the body, stalls (1 s endpoint timeout), answers garbage, half-closes or drips;
#            errors are expected there, but no wrk timeout (a hung exchange).
# Pass: no healthy error, no faulted timeout, and after warm-up RSS grows by at most
# SOAK_RSS_SLACK_MIB and descriptors by at most SOAK_FD_SLACK. Exit 0 on pass, 2 on fail,
# 1 when the harness itself fails.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$DIR/../.." && pwd)

usage() {
    cat <<'EOF'
Usage: scripts/reliability/soak.sh [--minutes N] [--no-build] [--keep]

  --minutes N   length of the load in minutes [10]; `--minutes 1` is a smoke run
  --no-build    do not run `cargo build --release -p conflux` (use target/release/conflux)
  --keep        keep the temporary home and logs

Environment (defaults in brackets):
  CONFLUX_BIN          Conflux binary [target/release/conflux]; setting it implies --no-build
  SOAK_WARMUP_S        seconds of load before the baseline sample [60; 20 when N = 1]
  SOAK_RSS_SLACK_MIB   allowed RSS growth after warm-up [16]
  SOAK_FD_SLACK        allowed growth of open descriptors after warm-up [16]
  SOAK_PORT_OFFSET     first port offset tried for Conflux [15000]
  SOAK_OUT             output directory for the CSV and the summary [target/reliability]
EOF
}

MINUTES=10
BUILD=1
KEEP=0
while (($#)); do
    case $1 in
        --minutes)
            [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: --minutes needs a positive whole number" >&2; exit 1; }
            MINUTES=$2
            shift
            ;;
        --no-build) BUILD=0 ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "soak.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
    shift
done

WINDOW_S=10
WINDOWS=$((MINUTES * 60 / WINDOW_S))
if ((MINUTES == 1)); then DEFAULT_WARMUP=20; else DEFAULT_WARMUP=60; fi
WARMUP_S=${SOAK_WARMUP_S:-$DEFAULT_WARMUP}
WARMUP_WINDOWS=$(((WARMUP_S + WINDOW_S - 1) / WINDOW_S))
((WARMUP_WINDOWS < WINDOWS)) || { echo "soak.sh: the warm-up ($WARMUP_S s) must be shorter than the run" >&2; exit 1; }
RSS_SLACK_MIB=${SOAK_RSS_SLACK_MIB:-16}
FD_SLACK=${SOAK_FD_SLACK:-16}
OUT=${SOAK_OUT:-$REPO/target/reliability}
# wrk's per-request timeout: far above the 1 s endpoint timeout of the stalling route.
WRK_TIMEOUT=5s
HEALTHY_CONNECTIONS=16
FAULT_CONNECTIONS=16

log() { printf '[soak %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# shellcheck source=../lib/conflux_run.sh
source "$REPO/scripts/lib/conflux_run.sh"

install_missing wrk:wrk curl:curl ss:iproute2
command -v python3 >/dev/null || die "python3 is needed for the fault backend"

resolve_conflux_bin
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

RUN=$(mktemp -d /tmp/conflux-soak.XXXXXX)
CONFLUX_PID=""
BACKEND_PID=""
cleanup() {
    # shellcheck disable=SC2086 # unset ids must vanish
    stop_pids $CONFLUX_PID $BACKEND_PID
    if ((KEEP)); then log "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT

# --- the backend --------------------------------------------------------------------------------
start_fault_backend "$RUN"

# --- a free port offset ---------------------------------------------------------------------------
find_port_offset "${SOAK_PORT_OFFSET:-15000}"
HTTP=$((8280 + OFFSET))
PROBES=$((9191 + OFFSET))

# --- the home: the default one, pointed at itself, plus the soak routes -----------------------------
HOME_COPY=$RUN/home
cp -r "$REPO/home" "$HOME_COPY"
rm -rf "$HOME_COPY/repository/logs"
SYNAPSE=$HOME_COPY/repository/deployment/server/synapse-configs/default
# The default home calls its own APIs on the default offset (8290); here Conflux runs elsewhere.
grep -rl 'localhost:8290' "$SYNAPSE" | xargs -r sed -i "s/localhost:8290/localhost:$HTTP/g"

NEVER_SUSPEND='<markForSuspension><errorCodes>-1</errorCodes></markForSuspension><suspendOnFailure><errorCodes>-1</errorCodes></suspendOnFailure>'
resource() { # NAME URI OPTIONS
    printf '    <resource methods="GET" uri-template="/%s">\n        <inSequence><send><endpoint><address uri="%s">%s</address></endpoint></send></inSequence>\n    </resource>\n' "$1" "$2" "$3"
}
B=http://127.0.0.1:$BACKEND_PORT
{
    echo '<api xmlns="http://ws.apache.org/ns/synapse" name="SoakApi" context="/soak">'
    resource pass "$B/ok" ""
    resource refuse "http://127.0.0.1:$REFUSED_PORT/ok" "$NEVER_SUSPEND"
    resource reset "$B/reset" "$NEVER_SUSPEND"
    resource cut "$B/cut" "$NEVER_SUSPEND"
    resource stall "$B/stall" "<timeout><duration>1000</duration><responseAction>fault</responseAction></timeout>$NEVER_SUSPEND"
    resource garbage "$B/garbage" "$NEVER_SUSPEND"
    resource half "$B/half" "$NEVER_SUSPEND"
    resource drip "$B/drip" "$NEVER_SUSPEND"
    echo '</api>'
} >"$SYNAPSE/api/SoakApi.xml"

HEALTHY_PATHS=/soak/pass,/hello/soak,/greeting/soak,/orders/7?note=soak,/transform/soak,/forward/soak,/services/EchoProxy/soak,/soak/pass
FAULT_PATHS=/soak/refuse,/soak/reset,/soak/cut,/soak/stall,/soak/garbage,/soak/half,/soak/drip

# --- Conflux ----------------------------------------------------------------------------------------
"$CONFLUX_BIN" --home "$HOME_COPY" "-DportOffset=$OFFSET" >"$RUN/conflux.out" 2>&1 &
CONFLUX_PID=$!
for _ in $(seq 1 300); do
    grep -q "Conflux started in" "$RUN/conflux.out" 2>/dev/null && break
    kill -0 "$CONFLUX_PID" 2>/dev/null || die "Conflux exited: $(tail -20 "$RUN/conflux.out")"
    sleep 0.1
done
grep -q "Conflux started in" "$RUN/conflux.out" || die "Conflux did not start: $(tail -20 "$RUN/conflux.out")"
log "Conflux $($CONFLUX_BIN --version 2>/dev/null | head -1) pid $CONFLUX_PID on offset $OFFSET (HTTP $HTTP); backend $BACKEND_PORT, refused port $REFUSED_PORT"

# Every route answers as expected once before the load (a wrong setup fails here, not in the CSV).
check() { # PATH EXPECTED-STATUS
    local got
    got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$HTTP$1" || true)
    [[ $got == "$2" ]] || die "GET $1 answered ${got:-nothing}, expected $2: $(tail -5 "$RUN/conflux.out")"
}
IFS=, read -ra healthy <<<"$HEALTHY_PATHS"
for p in "${healthy[@]}"; do check "$p" 200; done
check /soak/refuse 502
check /soak/reset 502
check /soak/stall 504
check /soak/garbage 502
check /soak/half 502
check /soak/drip 200
check /soak/cut 200 # the head arrives; the body is cut (curl reports it, the status stays)

# --- the load, sampled every window -------------------------------------------------------------------
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%d-%H%M%S)
CSV=$OUT/soak-$STAMP.csv
SUMMARY=$OUT/soak-$STAMP.summary.txt
echo "t_s,rss_kib,fds,threads,ok_rps,ok_p50_ms,ok_p99_ms,ok_max_ms,ok_errors,fault_rps,fault_p99_ms,fault_non2xx,fault_socket_errors,fault_timeouts,healthz_ms" >"$CSV"

field() { sed -n "s/.*[ ]$2=\([0-9]*\).*/\1/p" <<<"$1"; }
started=$(date +%s)
log "$MINUTES min of load in $WINDOWS windows of $WINDOW_S s (warm-up $WARMUP_S s); CSV $CSV"
for w in $(seq 1 "$WINDOWS"); do
    kill -0 "$CONFLUX_PID" 2>/dev/null || die "Conflux died in window $w: $(tail -20 "$RUN/conflux.out")"
    SOAK_PATHS=$HEALTHY_PATHS wrk -t2 -c$HEALTHY_CONNECTIONS -d${WINDOW_S}s --timeout $WRK_TIMEOUT \
        -s "$DIR/soak.lua" "http://127.0.0.1:$HTTP" >"$RUN/healthy.txt" 2>&1 &
    healthy_pid=$!
    SOAK_PATHS=$FAULT_PATHS wrk -t1 -c$FAULT_CONNECTIONS -d${WINDOW_S}s --timeout $WRK_TIMEOUT \
        -s "$DIR/soak.lua" "http://127.0.0.1:$HTTP" >"$RUN/fault.txt" 2>&1 &
    fault_pid=$!
    # Sampled in the middle of the window, under the steady load.
    sleep $((WINDOW_S / 2))
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$CONFLUX_PID/status")
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$CONFLUX_PID/status")
    fds=$(find "/proc/$CONFLUX_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
    healthz=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "http://127.0.0.1:$PROBES/healthz" || echo "000 0")
    wait "$healthy_pid" || true
    wait "$fault_pid" || true
    h=$(grep '^SOAK ' "$RUN/healthy.txt" || true)
    f=$(grep '^SOAK ' "$RUN/fault.txt" || true)
    [[ -n $h && -n $f ]] || die "wrk failed: $(cat "$RUN/healthy.txt" "$RUN/fault.txt")"
    [[ ${healthz%% *} == 200 ]] || log "window $w: /healthz answered ${healthz%% *}"
    ok_errors=$(($(field "$h" err_connect) + $(field "$h" err_read) + $(field "$h" err_write) + $(field "$h" err_status) + $(field "$h" err_timeout)))
    awk -v t=$((w * WINDOW_S)) -v rss="$rss" -v fds="$fds" -v th="$threads" \
        -v hr="$(field "$h" requests)" -v hd="$(field "$h" duration_us)" -v h50="$(field "$h" p50_us)" \
        -v h99="$(field "$h" p99_us)" -v hmax="$(field "$h" max_us)" -v herr="$ok_errors" \
        -v fr="$(field "$f" requests)" -v fd_="$(field "$f" duration_us)" -v f99="$(field "$f" p99_us)" \
        -v fst="$(field "$f" err_status)" -v fso="$(($(field "$f" err_connect) + $(field "$f" err_read) + $(field "$f" err_write)))" \
        -v fto="$(field "$f" err_timeout)" -v hz="${healthz#* }" \
        'BEGIN { printf "%d,%d,%d,%d,%.0f,%.2f,%.2f,%.2f,%d,%.0f,%.2f,%d,%d,%d,%.2f\n", t, rss, fds, th,
                 hr / (hd / 1e6), h50 / 1000, h99 / 1000, hmax / 1000, herr, fr / (fd_ / 1e6), f99 / 1000,
                 fst, fso, fto, hz * 1000 }' >>"$CSV"
    if ((w % 6 == 0 || w == WINDOWS)); then
        log "$(tail -1 "$CSV")"
    fi
done
elapsed=$(($(date +%s) - started))

# --- summary ----------------------------------------------------------------------------------------
set +e
awk -F, -v warm="$WARMUP_WINDOWS" -v rss_slack=$((RSS_SLACK_MIB * 1024)) -v fd_slack="$FD_SLACK" \
    -v minutes="$MINUTES" -v elapsed="$elapsed" -v date="$(date -u +%Y-%m-%d)" \
    -v rev="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" -v cpus="$(nproc)" '
function avg(a, from, to,   i, s) { s = 0; for (i = from; i <= to; i++) s += a[i]; return s / (to - from + 1) }
NR == 1 { next }
{ n++; rss[n] = $2; fds[n] = $3; th[n] = $4; okr += $5 * 10; faultr += $10 * 10; okerr += $9; fto += $14
  fnon += $12; fsock += $13; if ($7 > p99max) p99max = $7; if ($2 > rssmax) rssmax = $2
  if (n > warm) { post++; p99sum += $7; p50sum += $6 } }
END {
  # Growth after warm-up: the mean of the last third of the windows against the mean of the first
  # third after warm-up (single samples move with the connections open at that instant).
  k = int(post / 3); if (k < 1) k = 1
  rss_first = avg(rss, warm + 1, warm + k); rss_last = avg(rss, n - k + 1, n)
  fd_first = avg(fds, warm + 1, warm + k); fd_last = avg(fds, n - k + 1, n)
  rss_growth = rss_last - rss_first; fd_growth = fd_last - fd_first
  pass = (okerr == 0 && fto == 0 && rss_growth <= rss_slack && fd_growth <= fd_slack)
  printf "soak %s at %s (%d CPUs): %d min (%d s), %d windows of 10 s, warm-up %d windows, growth = mean of the last %d windows - mean of the first %d after warm-up\n", date, rev, cpus, minutes, elapsed, n, warm, k, k
  printf "healthy load: ~%d requests, %d errors; p50 %.2f ms and p99 %.2f ms averaged after warm-up, worst window p99 %.2f ms\n", okr, okerr, p50sum / post, p99sum / post, p99max
  printf "faulted load: ~%d requests, %d non-2xx answers (expected), %d socket errors (cut bodies), %d timeouts (hung exchanges)\n", faultr, fnon, fsock, fto
  printf "RSS: %.0f -> %.0f KiB (growth %+.0f KiB, allowed %d); max %d KiB\n", rss_first, rss_last, rss_growth, rss_slack, rssmax
  printf "fds: %.1f -> %.1f (growth %+.1f, allowed %d); threads %d -> %d\n", fd_first, fd_last, fd_growth, fd_slack, th[warm + 1], th[n]
  printf "result: %s\n", pass ? "PASS" : "FAIL"
  exit pass ? 0 : 2
}' "$CSV" | tee "$SUMMARY"
status=${PIPESTATUS[0]}
set -e
log "summary $SUMMARY"
exit "$status"
