#!/usr/bin/env bash
# Load benchmark of Conflux's pass-through against the backend alone (direct, the upper bound) and
# nginx as a reverse proxy, on this machine's loopback. See bench/BENCHMARKS.md for the method and
# the results; `bench/run.sh --help` for the options.
#
# Every target is measured the same way in the same run, in alternation: wrk (closed loop, HTTP/1.1
# keep-alive) -> target -> nginx backend with fixed bodies. Each point is repeated and the median is
# reported, with the proxy's CPU seconds per 100k requests from /proc/PID/stat and its peak RSS.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
COMMAND_LINE="bench/run.sh${*:+ $*}"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

usage() {
    cat <<'EOF'
Usage: bench/run.sh [--quick] [--targets LIST] [--scenarios LIST] [--no-build] [--no-write] [--profile]

  --quick         one short scenario (GET 1 KiB, 50 connections, 1 run of 2 s per target), the
                  1-API start-up time, and one request per scenario of the full run and target
                  (status and body size; echoes byte for byte): checks that the harness still
                  works and every scenario answers right. No timing is asserted. Does not touch
                  BENCHMARKS.md.
  --targets LIST  comma-separated subset of direct,nginx,conflux (default: all three). Without
                  conflux the run does not fail when Conflux cannot serve the bench API.
  --scenarios LIST  comma-separated subset of the full run's scenarios; implies --no-write. Each
                  item is a name, a glob over the names ('idiom-*-c50'), or a family (the names
                  that continue with '-': 'idiom-out-send' is its four points). Names:
                  get-1k-c50, get-100k-c50, get-1k-c500, get-100k-c500, post-echo-10k-c50,
                  https-get-1k-c50, mediate-{json,log,xslt,script,pass-json}-c50;
                  issue 22, each as -{1k,100k}-c{50,500}: pass-json, idiom-empty-seqs,
                  idiom-out-send, idiom-call-respond, idiom-log-headers, idiom-transport-prop,
                  cbr-json-filter; multi-core: get-{1k,100k}-c{50,500}-2cpu.
  --no-build      do not run `cargo build --release -p conflux` (use target/release/conflux as is).
  --no-write      do not rewrite the generated block of bench/BENCHMARKS.md after a full run.
  --profile       after the load runs, one extra run per proxy of GET 1 KiB and 100 KiB at 50
                  connections under `perf stat` (syscalls, context switches per request) and
                  `perf record -e cpu-clock` (flat profile by DSO and symbol); needs linux-perf.

Environment (defaults in brackets):
  CONFLUX_BIN          Conflux binary [target/release/conflux]; setting it implies --no-build
  BASELINE_BIN         a second Conflux binary (say, a saved build from before a change), measured as
                       the extra target `baseline` in the same run, in alternation with the others,
                       on port offset BENCH_PORT_OFFSET+1000 (implies --no-write)
  BENCH_CONFLUX_TOML   TOML appended to the deployment.toml of Conflux's home (e.g. a [transport]
                       table); BENCH_BASELINE_TOML the same for the baseline's home, so that
                       BASELINE_BIN=target/release/conflux compares two settings of one build
  BENCH_DURATION       seconds per measured run [5; 2 with --quick]
  BENCH_WARMUP         seconds of warm-up per scenario and target [2; 1 with --quick]
  BENCH_REPS           measured runs per scenario and target [3; 1 with --quick]
  BENCH_LAYOUT         CPU layout [A]: A = wrk cpu0, backend+proxy cpu1; B = wrk+backend cpu0, proxy
                       cpu1; S = wrk cpu0, backend cpu1, proxy spread over cpus 0-1. The proxy's worker
                       count follows its CPU set (tokio's default), and nginx gets the same count.
  BENCH_PORT_OFFSET    Conflux -DportOffset [12000: HTTP 20280, HTTPS 20243, probes 21191]
  BENCH_PORT_BASE      first of the 4 ports of backend and nginx proxy [22000]
  BENCH_MAX_FOREIGN    % of busy CPU used by other processes above which a run is repeated [12]
  BENCH_KEEP=1         keep the temp dir (configs, logs, raw wrk output)
  BENCH_PROFILE_PATHS  with --profile, more points to profile after get-1k and get-100k, as
                       space-separated NAME=PATH (idiom-log=/idiom-log-headers/1k)

Exit status: 0 all targets measured without errors; 3 Conflux did not serve the bench API;
4 some runs had errors or wrong bodies; 1 the harness itself failed.
EOF
}

MODE=full
TARGETS="direct nginx conflux"
BUILD=1
WRITE=1
PROFILE=0
SCENARIO_FILTER=""
while (($#)); do
    case $1 in
        --quick) MODE=quick ;;
        --targets)
            [[ $# -ge 2 ]] || { echo "run.sh: --targets needs a value (direct,nginx,conflux)" >&2; exit 1; }
            TARGETS=${2//,/ }
            shift
            ;;
        --scenarios)
            [[ $# -ge 2 ]] || { echo "run.sh: --scenarios needs a value (e.g. get-1k-c50,get-100k-c500)" >&2; exit 1; }
            SCENARIO_FILTER=$2
            WRITE=0
            shift
            ;;
        --no-build) BUILD=0 ;;
        --no-write) WRITE=0 ;;
        --profile) PROFILE=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
    shift
done
if [[ -n ${BASELINE_BIN:-} ]]; then
    [[ -x $BASELINE_BIN ]] || { echo "run.sh: BASELINE_BIN '$BASELINE_BIN' is not an executable" >&2; exit 1; }
    [[ " $TARGETS " == *" baseline "* ]] || TARGETS+=" baseline"
    WRITE=0
fi
for t in $TARGETS; do
    case $t in direct | nginx | conflux | baseline) ;; *) echo "run.sh: unknown target '$t' (valid: direct, nginx, conflux)" >&2; exit 1 ;; esac
done

if [[ $MODE == quick ]]; then
    DURATION=${BENCH_DURATION:-2}
    WARMUP=${BENCH_WARMUP:-1}
    REPS=${BENCH_REPS:-1}
    STARTUP_REPS=3
else
    DURATION=${BENCH_DURATION:-5}
    WARMUP=${BENCH_WARMUP:-2}
    REPS=${BENCH_REPS:-3}
    STARTUP_REPS=5
fi
LAYOUT=${BENCH_LAYOUT:-A}
OFFSET=${BENCH_PORT_OFFSET:-12000}
PORT_BASE=${BENCH_PORT_BASE:-22000}
MAX_FOREIGN=${BENCH_MAX_FOREIGN:-12}
# How long a run may wait for the machine to be quiet (other jobs share it) before it goes anyway.
QUIET_MAX_S=20
# A run whose foreign CPU share is above MAX_FOREIGN is repeated at most this many times.
MAX_RETRIES=2
# --quick checks the harness, not the numbers: it must stay short on a busy machine too.
if [[ $MODE == quick ]]; then QUIET_MAX_S=2 MAX_RETRIES=0; fi
# wrk's per-request timeout: far above any healthy latency here, so a timeout is an error, not load.
WRK_TIMEOUT=5s
# Start-up: give up waiting for the first successful request after this long.
READY_TIMEOUT_US=10000000
# Once /healthz answers, how long the bench API may still return non-200 before it counts as absent.
API_GRACE_US=1500000

bench_ports "$OFFSET" "$PORT_BASE"
# The baseline Conflux (BASELINE_BIN) runs next to the measured one on its own ports.
BASELINE_OFFSET=$((OFFSET + 1000))
BASELINE_HTTP=$((8280 + BASELINE_OFFSET))
BASELINE_HTTPS=$((8243 + BASELINE_OFFSET))
BASELINE_PROBES=$((9191 + BASELINE_OFFSET))

# ---------------------------------------------------------------------------------------------
# Tools, build, CPU layout

if ((PROFILE)); then ensure_tools perf:linux-perf; else ensure_tools; fi
NCPU=$(nproc)
if ((NCPU >= 2)); then
    case $LAYOUT in
        A) WRK_CPUS=0 BACKEND_CPUS=1 PROXY_CPUS=1 ;;
        B) WRK_CPUS=0 BACKEND_CPUS=0 PROXY_CPUS=1 ;;
        S) WRK_CPUS=0 BACKEND_CPUS=1 PROXY_CPUS=0-1 ;;
        *) die "BENCH_LAYOUT must be A, B or S, not '$LAYOUT'" ;;
    esac
else
    log "warning: only $NCPU CPU; everything shares cpu0"
    WRK_CPUS=0 BACKEND_CPUS=0 PROXY_CPUS=0
fi

prepare_conflux_bin

check_ports_free "$CONFLUX_HTTP" "$CONFLUX_HTTPS" "$CONFLUX_PROBES" ${BASELINE_BIN:+"$BASELINE_HTTP" "$BASELINE_HTTPS" "$BASELINE_PROBES"} \
    "$BACKEND_PORT" "$BACKEND_TLS_PORT" "$PROXY_PORT" "$PROXY_TLS_PORT"

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# The script itself (probes, bookkeeping) runs on the load generator's CPU.
taskset -pc "$WRK_CPUS" $$ >/dev/null

# Temp dir (removed on exit with every process started: bench/lib.sh), backend content, bodies.
bench_init_run conflux-bench
make_content

# ---------------------------------------------------------------------------------------------
# Machine load

# BOX_BUSY, BOX_ALL <- machine-wide CPU ticks (busy excludes idle, iowait and steal)
box_ticks() {
    local cpu user nice system idle iowait irq softirq steal rest
    read -r cpu user nice system idle iowait irq softirq steal rest </proc/stat
    BOX_BUSY=$((user + nice + system + irq + softirq))
    BOX_ALL=$((BOX_BUSY + idle + iowait))
}

# CHILD_MS <- CPU ms used by reaped children of this shell so far (bash `times`, no fork)
children_ms() {
    local line1 line2
    times >"$RUN/times"
    { read -r line1; read -r line2; } <"$RUN/times"
    CHILD_MS=0
    local t m s
    for t in $line2; do
        [[ $t =~ ^([0-9]+)m([0-9]+)[.,]([0-9]+)s$ ]] || continue
        m=${BASH_REMATCH[1]} s=${BASH_REMATCH[2]}
        CHILD_MS=$((CHILD_MS + 10#$m * 60000 + 10#$s * 1000 + 10#${BASH_REMATCH[3]}))
    done
}

wait_quiet() { # wait until other jobs leave the machine mostly idle (at most QUIET_MAX_S)
    local start b0 a0 busy_pct waited=0
    while ((waited < QUIET_MAX_S * 2)); do
        box_ticks; b0=$BOX_BUSY a0=$BOX_ALL
        sleep_ms 500
        box_ticks
        if ((BOX_ALL > a0)); then
            busy_pct=$(((BOX_BUSY - b0) * 100 / (BOX_ALL - a0)))
            ((busy_pct <= 10)) && return 0
        fi
        ((waited++)) || true
    done
    log "machine still busy (${busy_pct:-?}% CPU by others); measuring anyway"
}


# ---------------------------------------------------------------------------------------------
# Start-up: process start -> first 200 on the bench API; /healthz; the log's own figure; idle RSS

STARTUP_TSV=$RUN/startup.tsv
: >"$STARTUP_TSV"

measure_start() { # LABEL HOME REP: one start-up measurement, appended to STARTUP_TSV
    local label=$1 home=$2 rep=$3 t0 api_us=-1 health_us=-1 logged=-1 rss=-1 line
    local log=$RUN/conflux-start-$label-$rep.log
    now_us; t0=$NOW_US
    start_conflux "$home" "$log"
    while :; do
        now_us
        if ! kill -0 "$CONFLUX_PID" 2>/dev/null; then
            log "Conflux exited during start-up ($label); last log lines:"
            tail -n 5 "$log" >&2
            break
        fi
        if ((health_us < 0)); then
            http_status "$CONFLUX_PROBES" /healthz
            [[ $HTTP_STATUS == 200 ]] && health_us=$((NOW_US - t0))
        fi
        http_status "$CONFLUX_HTTP" /bench/1k
        if [[ $HTTP_STATUS == 200 ]]; then
            now_us
            api_us=$((NOW_US - t0))
            ((health_us < 0)) && health_us=$api_us
            break
        fi
        ((NOW_US - t0 > READY_TIMEOUT_US)) && break
        ((health_us >= 0 && NOW_US - t0 - health_us > API_GRACE_US)) && break
        sleep_ms 1
    done
    sleep_ms 1000
    proc_status_kb VmRSS "$CONFLUX_PID"; rss=$KB
    stop_conflux
    line=$(grep -o 'Conflux started in [0-9]* ms' "$log" | head -n 1 || true)
    [[ $line =~ ([0-9]+)\ ms ]] && logged=${BASH_REMATCH[1]}
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$rep" "$api_us" "$health_us" "$logged" "$rss" >>"$STARTUP_TSV"
    log "start-up $label #$rep: first 200 on /bench/1k $( ((api_us >= 0)) && echo "$((api_us / 1000)) ms" || echo never), /healthz $((health_us / 1000)) ms, log says ${logged} ms, RSS ${rss} kB after 1 s"
}

measure_nginx_start() { # REP: nginx proxy start -> first 200 through it (a reference point)
    local t0 ms=-1 rss pid
    render "$BENCH_DIR/nginx-proxy.conf.in" "$RUN/proxy-start.conf"
    now_us; t0=$NOW_US
    taskset -c "$PROXY_CPUS" nginx -p "$RUN" -c "$RUN/proxy-start.conf" >"$RUN/proxy-start.out" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    while kill -0 "$pid" 2>/dev/null; do
        http_status "$PROXY_PORT" /bench/1k
        now_us
        [[ $HTTP_STATUS == 200 ]] && { ms=$((NOW_US - t0)); break; }
        ((NOW_US - t0 > READY_TIMEOUT_US)) && break
        sleep_ms 1
    done
    sleep_ms 1000
    nginx_pids "$pid"; proc_status_kb VmRSS $PIDS; rss=$KB
    stop_pid "$pid"; forget_pid "$pid"
    printf 'nginx\t%s\t%s\t-1\t-1\t%s\n' "$1" "$ms" "$rss" >>"$STARTUP_TSV"
}

# ---------------------------------------------------------------------------------------------
# Load scenarios

# name | path | POST body (0 = GET; N = N bytes; "json" = the JSON order document; "json-1k",
# "json-100k" = the JSON documents of that size, echoed) | connections | scheme | expected body
# bytes | targets (empty: all; mediation has no nginx or direct equivalent) | proxy CPUs (empty or
# 1: the layout's; 2: both cores, nginx with 2 workers)
SCENARIOS_FULL=(
    "get-1k-c50|/1k|0|50|http|1024|"
    "get-100k-c50|/100k|0|50|http|102400|"
    "get-1k-c500|/1k|0|500|http|1024|"
    "get-100k-c500|/100k|0|500|http|102400|"
    "post-echo-10k-c50|/echo|10240|50|http|10240|"
    "https-get-1k-c50|/1k|0|50|https|1024|"
    "mediate-json-c50|/mediate/json|json|50|http|$JSON_OUT_BYTES|conflux,baseline"
    "mediate-log-c50|/mediate/log|0|50|http|1024|conflux,baseline"
    "mediate-xslt-c50|/mediate/xslt|json|50|http|$XSLT_OUT_BYTES|conflux,baseline"
    "mediate-script-c50|/mediate/script|json|50|http|$XSLT_OUT_BYTES|conflux,baseline"
    "mediate-pass-json-c50|/mediate/pass|json|50|http|$ORDER_BYTES|conflux,baseline"
)
# Issue 22: the MI idioms (bench/lib.sh write_idiom_apis), each at 1 KiB and 100 KiB, 50 and 500
# connections, against nginx's plain proxy_pass (direct is the get-* scenarios' backend). The
# content-based routing route POSTs JSON and is compared with the same POST passed through
# (pass-json-*, the Bench API). IDIOM_TARGETS: the idioms are compared with nginx only.
IDIOM_TARGETS=nginx,conflux,baseline
for size in 1k 100k; do
    bytes=$((${size%k} * 1024))
    for conns in 50 500; do
        SCENARIOS_FULL+=("pass-json-$size-c$conns|/echo|json-$size|$conns|http|$bytes|$IDIOM_TARGETS")
    done
done
for idiom in "${IDIOMS[@]}"; do
    for size in 1k 100k; do
        bytes=$((${size%k} * 1024))
        for conns in 50 500; do
            if [[ $idiom == cbr-* ]]; then
                SCENARIOS_FULL+=("$idiom-$size-c$conns|/$idiom/echo|json-$size|$conns|http|$bytes|$IDIOM_TARGETS")
            else
                SCENARIOS_FULL+=("$idiom-$size-c$conns|/$idiom/$size|0|$conns|http|$bytes|$IDIOM_TARGETS")
            fi
        done
    done
done
# Multi-core (issue 22): the pass-through GETs again with the proxy on both cores (nginx with 2
# workers, Conflux's runtime sized by its CPU set); the report sets them against the same scenario
# on the layout's proxy CPUs (one core in layouts A and B).
for base in get-1k-c50 get-100k-c50 get-1k-c500 get-100k-c500; do
    for spec in "${SCENARIOS_FULL[@]}"; do
        [[ ${spec%%|*} == "$base" ]] && SCENARIOS_FULL+=("$base-2cpu|${spec#*|}$IDIOM_TARGETS|2")
    done
done
SCENARIOS_QUICK=("get-1k-c50|/1k|0|50|http|1024|")

# The scenarios of this run (checked before anything is started).
if [[ $MODE == quick ]]; then SCENARIOS=("${SCENARIOS_QUICK[@]}"); else SCENARIOS=("${SCENARIOS_FULL[@]}"); fi
if [[ -n $SCENARIO_FILTER ]]; then
    # Each item: a scenario's name; else a glob over the names (idiom-*-c50); else a family, the
    # scenarios named ITEM-... (idiom-out-send: its four sizes and connection counts).
    CHOSEN=()
    declare -A PICKED=()
    IFS=, read -r -a FILTER_ITEMS <<<"$SCENARIO_FILTER"
    for item in "${FILTER_ITEMS[@]}"; do
        matched=()
        for spec in "${SCENARIOS_FULL[@]}"; do [[ ${spec%%|*} == "$item" ]] && matched+=("$spec"); done
        if ((${#matched[@]} == 0)); then
            for spec in "${SCENARIOS_FULL[@]}"; do
                # shellcheck disable=SC2053 # the item is a glob on purpose
                [[ ${spec%%|*} == $item || ${spec%%|*} == "$item"-* ]] && matched+=("$spec")
            done
        fi
        ((${#matched[@]})) || die "unknown scenario '$item' (see --help)"
        for spec in "${matched[@]}"; do
            [[ -n ${PICKED[${spec%%|*}]:-} ]] && continue
            PICKED[${spec%%|*}]=1
            CHOSEN+=("$spec")
        done
    done
    SCENARIOS=("${CHOSEN[@]}")
fi

target_pids() { # TARGET -> PIDS of the proxy under test ("" for direct)
    case $1 in
        direct) PIDS="" ;;
        nginx) nginx_pids "$PROXY_PID" ;;
        conflux) PIDS=$CONFLUX_PID ;;
        baseline) PIDS=$BASELINE_PID ;;
    esac
}

RUNS_TSV=$RUN/runs.tsv
: >"$RUNS_TSV"
HAD_ERRORS=0

measure() { # SCENARIO TARGET REP name path post conns scheme expect
    local scenario=$1 target=$2 rep=$3 path=$5 post=$6 conns=$7 scheme=$8
    local attempt p0 p1 b0 b1 c0 c1 box0 box1 hwm=-1 out foreign line
    local requests duration p50 p99 errs
    target_url "$target" "$scheme" "$path"
    for ((attempt = 1; attempt <= MAX_RETRIES + 1; attempt++)); do
        wait_quiet
        target_pids "$target"
        [[ -n $PIDS ]] && reset_peak_rss $PIDS
        out=$RUN/wrk-$scenario-$target-$rep-$attempt.out
        proc_ticks $PIDS; p0=$TICKS
        proc_ticks $BACKEND_PIDS; b0=$TICKS
        children_ms; c0=$CHILD_MS
        box_ticks; box0=$BOX_BUSY
        run_wrk "$out" "$conns" "$DURATION" "$post" "$URL"
        box_ticks; box1=$BOX_BUSY
        children_ms; c1=$CHILD_MS
        proc_ticks $BACKEND_PIDS; b1=$TICKS
        proc_ticks $PIDS; p1=$TICKS
        if [[ -n $PIDS ]]; then proc_status_kb VmHWM $PIDS; hwm=$KB; fi
        line=$(grep '^BENCH ' "$out" || true)
        if [[ -z $line ]]; then
            log "FAIL $scenario $target: wrk printed no result:"
            tail -n 5 "$out" >&2
            HAD_ERRORS=1
            return 0
        fi
        # requests duration p50 p99 and the error counts from report.lua's line
        [[ $line =~ requests=([0-9]+)\ duration_us=([0-9]+) ]] && requests=${BASH_REMATCH[1]} duration=${BASH_REMATCH[2]}
        [[ $line =~ p50_us=([0-9]+) ]] && p50=${BASH_REMATCH[1]}
        [[ $line =~ p99_us=([0-9]+) ]] && p99=${BASH_REMATCH[1]}
        [[ $line =~ err_connect=([0-9]+)\ err_read=([0-9]+)\ err_write=([0-9]+)\ err_status=([0-9]+)\ err_timeout=([0-9]+) ]]
        errs=$((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4] + BASH_REMATCH[5]))
        # Share of busy CPU that was neither wrk, the backend nor the proxy (other jobs on the box).
        local own=$(((p1 - p0) + (b1 - b0) + (c1 - c0) / 10)) busy=$((box1 - box0))
        foreign=0
        ((busy > 0 && busy > own)) && foreign=$(((busy - own) * 100 / busy))
        if ((foreign > MAX_FOREIGN && attempt <= MAX_RETRIES)); then
            log "  $scenario $target #$rep: ${foreign}% of the CPU went to other processes; repeating"
            continue
        fi
        break
    done
    ((errs > 0)) && { log "  $scenario $target #$rep: $errs errors (see $out)"; HAD_ERRORS=1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$target" "$rep" "$requests" "$duration" \
        "$p50" "$p99" "$(((p1 - p0)))" "$((b1 - b0))" "$hwm" "$errs" "$foreign" "$attempt" >>"$RUNS_TSV"
    log "  $scenario $target #$rep: $((requests * 1000000 / duration)) req/s, p50 $((p50 / 1000)).$(printf %03d $((p50 % 1000))) ms, p99 $((p99 / 1000)).$(printf %03d $((p99 % 1000))) ms, CPU ticks: proxy $((p1 - p0)), backend $((b1 - b0)), wrk $(((c1 - c0) / 10)), box $((box1 - box0)) (foreign ${foreign}%)"
}

# ---------------------------------------------------------------------------------------------
# Main

log "mode $MODE, layout $LAYOUT (wrk cpu $WRK_CPUS, backend cpu $BACKEND_CPUS, proxy cpu $PROXY_CPUS), targets: $TARGETS"
log "temp dir $RUN"
start_backend
log "backend nginx on 127.0.0.1:$BACKEND_PORT (https $BACKEND_TLS_PORT), pids $BACKEND_PIDS"

CONFLUX_OK=1
CONFLUX_FAILURE=""
ACTIVE_TARGETS=""
PROXY_WORKERS=1
if [[ " $TARGETS " == *" conflux "* ]]; then
    make_home "$RUN/home-1" 1 "${BENCH_CONFLUX_TOML:-}"
    # First start generates the TLS certificate into the home; not part of the start-up figure.
    start_conflux "$RUN/home-1" "$RUN/conflux-first.log"
    for ((i = 0; i < 1000; i++)); do
        kill -0 "$CONFLUX_PID" 2>/dev/null || break
        http_status "$CONFLUX_PROBES" /healthz
        [[ $HTTP_STATUS == 200 ]] && break
        sleep_ms 10
    done
    if [[ $HTTP_STATUS != 200 ]]; then
        tail -n 20 "$RUN/conflux-first.log" >&2
        die "Conflux did not become ready (/healthz on $CONFLUX_PROBES) within 10 s"
    fi
    worker_threads "$CONFLUX_PID"
    PROXY_WORKERS=$WORKERS
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CONFLUX_HTTP/bench/1k" || true)
    if [[ $code != 200 ]]; then
        CONFLUX_OK=0
        CONFLUX_FAILURE="GET http://127.0.0.1:$CONFLUX_HTTP/bench/1k answered ${code:-nothing}, not 200: this Conflux build does not pass the bench API through to the backend"
        log "CONFLUX FAILED: $CONFLUX_FAILURE"
    fi
    stop_conflux
fi
((PROXY_WORKERS >= 1)) || PROXY_WORKERS=1
log "proxy worker count: $PROXY_WORKERS (Conflux's serving threads on cpu $PROXY_CPUS; nginx gets the same)"
# The layout's proxy CPUs, and the multi-core scenarios' (*-2cpu): both cores, nginx with 2 workers.
PROXY_CPUS_1=$PROXY_CPUS PROXY_WORKERS_1=$PROXY_WORKERS
PROXY_CPUS_2=0-1
CONFLUX_WORKERS_2=""

use_proxy_cores() { # 1|2: PROXY_CPUS and PROXY_WORKERS for the next proxy starts; fails without 2 CPUs
    if [[ $1 == 2 ]]; then
        ((NCPU >= 2)) || return 1
        PROXY_CPUS=$PROXY_CPUS_2 PROXY_WORKERS=2
    else
        PROXY_CPUS=$PROXY_CPUS_1 PROXY_WORKERS=$PROXY_WORKERS_1
    fi
}

if [[ " $TARGETS " == *" baseline "* ]]; then
    # Its own home (logs, certificate), started once here so the certificate exists before the load.
    make_home "$RUN/home-1b" 1 "${BENCH_BASELINE_TOML:-}"
    start_baseline "$RUN/home-1b" "$RUN/baseline-first.log"
    wait_http "$BASELINE_HTTP" /bench/1k "$BASELINE_PID" "baseline Conflux"
    stop_baseline
fi
for t in $TARGETS; do
    [[ $t == conflux && $CONFLUX_OK == 0 ]] && continue
    ACTIVE_TARGETS+="$t "
done

# Start-up and idle RSS.
if [[ $CONFLUX_OK == 1 && " $TARGETS " == *" conflux "* ]]; then
    for ((r = 1; r <= STARTUP_REPS; r++)); do measure_start 1-api "$RUN/home-1" "$r"; done
    if [[ $MODE == full ]]; then
        make_home "$RUN/home-500" 500 "${BENCH_CONFLUX_TOML:-}"
        start_conflux "$RUN/home-500" "$RUN/conflux-first-500.log"   # its own first start (certificate)
        sleep_ms 1500
        stop_conflux
        for ((r = 1; r <= STARTUP_REPS; r++)); do measure_start 500-apis "$RUN/home-500" "$r"; done
    fi
fi
if [[ " $ACTIVE_TARGETS " == *" nginx "* ]]; then
    for ((r = 1; r <= STARTUP_REPS; r++)); do measure_nginx_start "$r"; done
fi

# Fresh proxies for each scenario, so that its peak RSS is its own (an allocator keeps what an
# earlier scenario grew to) and no scenario inherits another's connections.
restart_proxies() { # SCENARIO (on the CPUs use_proxy_cores chose)
    if [[ " $ACTIVE_TARGETS " == *" nginx "* ]]; then
        if [[ -n $PROXY_PID ]]; then stop_pid "$PROXY_PID"; forget_pid "$PROXY_PID"; fi
        start_nginx_proxy
    fi
    if [[ " $ACTIVE_TARGETS " == *" conflux "* ]]; then
        stop_conflux
        start_conflux "$RUN/home-1" "$RUN/conflux-load-$1.log"
        wait_http "$CONFLUX_HTTP" /bench/1k "$CONFLUX_PID" Conflux
        if [[ $PROXY_CPUS != "$PROXY_CPUS_1" ]]; then
            worker_threads "$CONFLUX_PID"
            CONFLUX_WORKERS_2=$WORKERS
        fi
    fi
    if [[ " $ACTIVE_TARGETS " == *" baseline "* ]]; then
        stop_baseline
        start_baseline "$RUN/home-1b" "$RUN/baseline-load-$1.log"
        wait_http "$BASELINE_HTTP" /bench/1k "$BASELINE_PID" "baseline Conflux"
    fi
}

read -r -a TARGET_LIST <<<"$ACTIVE_TARGETS"
N_TARGETS=${#TARGET_LIST[@]}
log "${#SCENARIOS[@]} scenario(s) x $N_TARGETS target(s) x $REPS run(s) of ${DURATION} s (+ ${WARMUP} s warm-up each)"

declare -A BROKEN=()
for spec in "${SCENARIOS[@]}"; do
    IFS='|' read -r name path post conns scheme expect only cores <<<"$spec"
    if ! use_proxy_cores "${cores:-1}"; then
        log "scenario $name: skipped (needs 2 CPUs, this machine has $NCPU)"
        continue
    fi
    restart_proxies "$name"
    log "scenario $name (proxy cpu $PROXY_CPUS; nginx proxy pid ${PROXY_PID:-none}, Conflux pid ${CONFLUX_PID:-none})"
    for t in "${TARGET_LIST[@]}"; do
        # Mediation scenarios run on Conflux only: nginx has no equivalent to measure.
        if [[ -n $only && ,$only, != *,$t,* ]]; then
            BROKEN[$name/$t]=1
            continue
        fi
        if ! check_body "$t" "$path" "$post" "$conns" "$scheme" "$expect"; then
            BROKEN[$name/$t]=1
            HAD_ERRORS=1
            continue
        fi
        target_url "$t" "$scheme" "$path"
        run_wrk "$RUN/warmup-$name-$t.out" "$conns" "$WARMUP" "$post" "$URL"
    done
    for ((rep = 1; rep <= REPS; rep++)); do
        # Rotate the order so that no target always runs first or last.
        for ((k = 0; k < N_TARGETS; k++)); do
            t=${TARGET_LIST[$(((k + rep - 1) % N_TARGETS))]}
            [[ -n ${BROKEN[$name/$t]:-} ]] && continue
            measure "$name" "$t" "$rep" "$name" "$path" "$post" "$conns" "$scheme"
        done
    done
done

use_proxy_cores 1

# --quick: every scenario of the full run answers right through every target it is measured on
# (one request each, the check each load point starts with); no load, no timings.
if [[ $MODE == quick ]]; then
    CHECKED=0 CHECK_FAILED=0 cur_cores=""
    for spec in "${SCENARIOS_FULL[@]}"; do
        IFS='|' read -r name path post conns scheme expect only cores <<<"$spec"
        cores=${cores:-1}
        if [[ $cores != "$cur_cores" ]]; then
            if ! use_proxy_cores "$cores"; then
                log "answer check $name: skipped (needs 2 CPUs)"
                continue
            fi
            restart_proxies "check-$cores"
            cur_cores=$cores
            ((cores == 2)) && log "answer check on 2 CPUs: nginx 2 workers, Conflux ${CONFLUX_WORKERS_2:-?} serving threads"
        fi
        for t in "${TARGET_LIST[@]}"; do
            [[ -n $only && ,$only, != *,$t,* ]] && continue
            if check_body "$t" "$path" "$post" "$conns" "$scheme" "$expect"; then
                CHECKED=$((CHECKED + 1))
            else
                CHECK_FAILED=$((CHECK_FAILED + 1))
                HAD_ERRORS=1
            fi
        done
    done
    use_proxy_cores 1
    log "answer check: $CHECKED right, $CHECK_FAILED wrong (${#SCENARIOS_FULL[@]} scenarios x their targets)"
fi

# ---------------------------------------------------------------------------------------------
# Profile (--profile): where the proxy's CPU goes

PROFILE_MD=$RUN/profile.md
: >"$PROFILE_MD"

profile_point() { # SCENARIO PATH TARGET: one extra run under perf stat, one under perf record
    local name=$1 path=$2 t=$3 pids_csv out line requests syscalls switches kernel
    target_url "$t" http "$path"
    target_pids "$t"
    pids_csv=${PIDS// /,}; pids_csv=${pids_csv%,}
    out=$RUN/profile-$name-$t
    perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pids_csv" -o "$out.stat" -- sleep "$DURATION" &
    run_wrk "$out.wrk1" 50 "$DURATION" 0 "$URL"
    wait $! || true
    [[ $(grep '^BENCH ' "$out.wrk1") =~ requests=([0-9]+) ]] && requests=${BASH_REMATCH[1]}
    syscalls=$(awk -F, '/raw_syscalls:sys_enter/ {print $1}' "$out.stat")
    switches=$(awk -F, '/context-switches/ {print $1}' "$out.stat")
    perf record -q -e cpu-clock -F 1999 -p "$pids_csv" -o "$out.data" -- sleep "$DURATION" 2>/dev/null &
    run_wrk "$out.wrk2" 50 "$DURATION" 0 "$URL"
    wait $! || true
    perf report -i "$out.data" --stdio --no-children --sort dso,sym --percent-limit 1.5 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 14 >"$out.top" || true
    kernel=$(perf report -i "$out.data" --stdio --no-children --sort dso 2>/dev/null |
        awk '/\[kernel/ {gsub("%", "", $1); print $1}' | head -n 1)
    {
        echo "#### $name, $t"
        echo
        echo "- syscalls per request: $(awk -v a="${syscalls:-0}" -v b="${requests:-1}" 'BEGIN {printf "%.2f", a / b}');" \
            "context switches per request: $(awk -v a="${switches:-0}" -v b="${requests:-1}" 'BEGIN {printf "%.3f", a / b}');" \
            "kernel share of the proxy's samples: ${kernel:-?} %"
        echo
        echo '```text'
        cat "$out.top"
        echo '```'
        echo
    } >>"$PROFILE_MD"
    log "  profiled $name $t: ${requests:-?} requests, ${syscalls:-?} syscalls, kernel ${kernel:-?} %"
}

if ((PROFILE)); then
    log "profiling (perf)"
    for t in "${TARGET_LIST[@]}"; do
        [[ $t == direct ]] && continue
        profile_point get-1k-c50 /1k "$t"
        profile_point get-100k-c50 /100k "$t"
        for point in $BENCH_PROFILE_PATHS; do
            profile_point "${point%%=*}" "${point#*=}" "$t"
        done
    done
fi

# ---------------------------------------------------------------------------------------------
# Report

CLK_TCK=$(getconf CLK_TCK)
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
NGINX_VERSION=$(nginx -v 2>&1 | sed 's/.*nginx\///')
WRK_VERSION=$( (wrk -v 2>&1 || true) | head -n 1 | awk '{print $2}')
GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then GIT_REV+=" (with uncommitted changes)"; fi
STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)

REPORT=$RUN/report.md
{
    echo "### Run of $STAMP ($MODE)"
    echo
    echo "- Command: \`$COMMAND_LINE\`${CONFLUX_BIN:+ (Conflux binary \`${CONFLUX_BIN#"$REPO"/}\`, commit $GIT_REV)}"
    echo "- Machine: \`nproc\` = $NCPU, $CPU_MODEL, kernel $(uname -r); nginx $NGINX_VERSION, wrk $WRK_VERSION"
    echo "- Layout $LAYOUT: wrk on cpu $WRK_CPUS, backend (nginx, 1 worker) on cpu $BACKEND_CPUS, proxy on cpu $PROXY_CPUS;" \
        "proxy workers: $PROXY_WORKERS (Conflux's serving threads; nginx \`worker_processes\` set to match)"
    if grep -q -- $'-2cpu\t' "$RUNS_TSV"; then
        echo "- Scenarios \`*-2cpu\`: the same with the proxy on cpus $PROXY_CPUS_2 (wrk and backend stay where they are): nginx \`worker_processes 2\`, Conflux ${CONFLUX_WORKERS_2:-?} serving threads (one runtime each with the HTTP/1 engine)"
    fi
    echo "- Each point: median of $REPS run(s) of ${DURATION} s after ${WARMUP} s of warm-up, \`wrk -t1 -cN --timeout $WRK_TIMEOUT\`, targets in rotating order"
    [[ -n ${BENCH_CONFLUX_TOML:-} ]] && echo "- Added to Conflux's deployment.toml: \`${BENCH_CONFLUX_TOML//$'\n'/ }\`"
    [[ -n ${BENCH_BASELINE_TOML:-} ]] && echo "- Added to the baseline's deployment.toml: \`${BENCH_BASELINE_TOML//$'\n'/ }\`"
    [[ $CONFLUX_OK == 0 && " $TARGETS " == *" conflux "* ]] && echo "- **Conflux was not measured:** $CONFLUX_FAILURE"
    echo
    awk -F'\t' -v tck="$CLK_TCK" -v layout="$LAYOUT" -f "$BENCH_DIR/report.awk" "$RUNS_TSV"
    if [[ -s $STARTUP_TSV ]]; then
        echo
        echo "Start-up (process start to the first 200 through the proxy; median of the runs) and idle RSS (1 s after that request):"
        echo
        awk -F'\t' -f "$BENCH_DIR/startup.awk" "$STARTUP_TSV"
    fi
    if [[ -s $PROFILE_MD ]]; then
        echo
        echo "Profiles (\`perf stat\` and \`perf record -e cpu-clock -F 1999\` of the proxy during one extra ${DURATION} s run at 50 connections; top symbols by share of the proxy's samples):"
        echo
        cat "$PROFILE_MD"
    fi
} >"$REPORT"

# Raw data of runs over every scenario are kept; --scenarios runs are spot checks.
if [[ $MODE == full && -z $SCENARIO_FILTER ]]; then
    mkdir -p "$BENCH_DIR/results"
    RESULT_BASE=$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ)
    cp "$REPORT" "$RESULT_BASE.md"
    {
        printf 'scenario\ttarget\trep\trequests\tduration_us\tp50_us\tp99_us\tproxy_ticks\tbackend_ticks\tpeak_rss_kb\terrors\tforeign_pct\tattempts\n'
        cat "$RUNS_TSV"
    } >"$RESULT_BASE.runs.tsv"
    {
        printf 'label\trep\tfirst_200_us\thealthz_us\tlogged_ms\tidle_rss_kb\n'
        cat "$STARTUP_TSV"
    } >"$RESULT_BASE.startup.tsv"
    log "results: ${RESULT_BASE#"$REPO"/}.{md,runs.tsv,startup.tsv}"
fi
cat "$REPORT"

if [[ $MODE == full && $WRITE == 1 && -f $BENCH_DIR/BENCHMARKS.md ]]; then
    if grep -q '^<!-- BEGIN GENERATED' "$BENCH_DIR/BENCHMARKS.md"; then
        awk -v report="$REPORT" '
            /^<!-- BEGIN GENERATED/ { print; while ((getline l < report) > 0) print l; skip = 1; next }
            /^<!-- END GENERATED/ { skip = 0 }
            !skip { print }' "$BENCH_DIR/BENCHMARKS.md" >"$RUN/BENCHMARKS.md"
        cp "$RUN/BENCHMARKS.md" "$BENCH_DIR/BENCHMARKS.md"
        log "updated the generated block of bench/BENCHMARKS.md"
    fi
fi

if [[ $CONFLUX_OK == 0 && " $TARGETS " == *" conflux "* ]]; then
    log "CONFLUX FAILED: $CONFLUX_FAILURE"
    exit 3
fi
if ((HAD_ERRORS)); then
    log "some runs had errors or wrong bodies (see above)"
    exit 4
fi
exit 0
