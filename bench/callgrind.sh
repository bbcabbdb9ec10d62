#!/usr/bin/env bash
# Instructions per request of Conflux and of nginx as the reverse proxy, counted by valgrind's
# callgrind (user space only: the kernel's share is not counted). Unlike wall-clock figures on a
# shared machine, the count is the same whatever else the machine does, so it is the figure to
# record before and after each change (bench/BENCHMARKS.md, "Instructions per request").
#
# For each scenario and proxy: the proxy starts under callgrind on one CPU (Conflux then runs its
# current-thread runtime, as in bench/run.sh's layout A; nginx runs one process, master_process
# off), the request is checked once (status, body size), wrk warms it up, then the counters are
# zeroed and read (callgrind_control -z / -d) around an idle period and around a wrk run. The
# figure is (instructions of the wrk run - the idle rate x its length) / the requests wrk counted.
# `--help` for the options.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
COMMAND_LINE="bench/callgrind.sh${*:+ $*}"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# The scenarios this script knows: name|path (after /bench)|POST body (0: a GET; json-1k,
# json-100k: the JSON documents of bench/lib.sh make_content, as bench/run.sh posts them)|expected
# body bytes. The content-based routing idiom POSTs JSON, and pass-json-* is its baseline (the
# same POST through the Bench API's plain pass-through).
CG_SCENARIOS=("get-1k|/1k|0|1024" "get-100k|/100k|0|102400")
CG_SCENARIOS+=("pass-json-1k|/echo|json-1k|1024" "pass-json-100k|/echo|json-100k|102400")
for idiom in "${IDIOMS[@]}"; do
    if [[ $idiom == cbr-* ]]; then
        CG_SCENARIOS+=("$idiom-1k|/$idiom/echo|json-1k|1024" "$idiom-100k|/$idiom/echo|json-100k|102400")
    else
        CG_SCENARIOS+=("$idiom-1k|/$idiom/1k|0|1024" "$idiom-100k|/$idiom/100k|0|102400")
    fi
done

usage() {
    cat <<EOF
Usage: bench/callgrind.sh [--quick] [--scenarios LIST] [--targets LIST] [--no-build]

  --quick           1 s of warm-up, 1 s idle, 2 s of load per point: checks that the script
                    works and every point answers right (no figure is asserted)
  --scenarios LIST  comma-separated [default: get-1k,idiom-out-send-1k]; known:
                    $(printf '%s ' "${CG_SCENARIOS[@]%%|*}")
  --targets LIST    comma-separated subset of conflux,nginx [both]; with BASELINE_BIN set,
                    also baseline
  --no-build        do not run \`cargo build --release -p conflux\`

Environment (defaults in brackets):
  CONFLUX_BIN       Conflux binary [target/release/conflux]; setting it implies --no-build
  BASELINE_BIN      an older Conflux binary, counted as the extra target \`baseline\`
  BENCH_CONFLUX_TOML, BENCH_BASELINE_TOML
                    TOML appended to the deployment.toml of Conflux's / the baseline's home
                    (e.g. a [transport] table: the same binary with two settings)
  CG_DURATION       seconds of wrk load per point [10; 2 with --quick]
  CG_WARMUP         seconds of warm-up per point [3; 1 with --quick]
  CG_IDLE           seconds of the idle reading per point [2; 1 with --quick]
  CG_CONNS          wrk connections [50]
  CG_PORT_OFFSET    Conflux -DportOffset [14000]
  CG_PORT_BASE      first of the 4 nginx ports [22100]
  BENCH_KEEP=1      keep the temp dir (callgrind dumps: callgrind_annotate them)

Exit status: 0 every point measured; 4 some point answered wrong or wrk counted errors; 1 the
script itself failed.
EOF
}

MODE=full
BUILD=1
SCENARIO_LIST="get-1k,idiom-out-send-1k"
TARGETS="conflux nginx"
while (($#)); do
    case $1 in
        --quick) MODE=quick ;;
        --scenarios)
            [[ $# -ge 2 ]] || die "--scenarios needs a value"
            SCENARIO_LIST=$2
            shift
            ;;
        --targets)
            [[ $# -ge 2 ]] || die "--targets needs a value (conflux,nginx)"
            TARGETS=${2//,/ }
            shift
            ;;
        --no-build) BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
if [[ -n ${BASELINE_BIN:-} ]]; then
    [[ -x $BASELINE_BIN ]] || die "BASELINE_BIN '$BASELINE_BIN' is not an executable"
    [[ " $TARGETS " == *" baseline "* ]] || TARGETS+=" baseline"
fi
for t in $TARGETS; do
    case $t in conflux | nginx | baseline) ;; *) die "unknown target '$t' (valid: conflux, nginx)" ;; esac
done
if [[ $MODE == quick ]]; then
    DURATION=${CG_DURATION:-2} WARMUP=${CG_WARMUP:-1} IDLE=${CG_IDLE:-1}
else
    DURATION=${CG_DURATION:-10} WARMUP=${CG_WARMUP:-3} IDLE=${CG_IDLE:-2}
fi
CONNS=${CG_CONNS:-50}
# wrk's per-request timeout: a proxy under callgrind is some 50x slower, still far below this.
WRK_TIMEOUT=10s
# A proxy under callgrind starts slowly (Conflux: a few seconds).
START_TIMEOUT_S=120

CHOSEN=()
IFS=, read -r -a items <<<"$SCENARIO_LIST"
for item in "${items[@]}"; do
    found=""
    for spec in "${CG_SCENARIOS[@]}"; do [[ ${spec%%|*} == "$item" ]] && found=$spec; done
    [[ -n $found ]] || die "unknown scenario '$item' (see --help)"
    CHOSEN+=("$found")
done

ensure_tools valgrind:valgrind
NCPU=$(nproc)
if ((NCPU >= 2)); then
    WRK_CPUS=0 BACKEND_CPUS=1 PROXY_CPUS=1
else
    WRK_CPUS=0 BACKEND_CPUS=0 PROXY_CPUS=0
fi
prepare_conflux_bin
MEASURED_BIN=$CONFLUX_BIN

bench_ports "${CG_PORT_OFFSET:-14000}" "${CG_PORT_BASE:-22100}"
# One proxy runs at a time: the baseline build uses the measured one's ports and home.
BASELINE_HTTP=$CONFLUX_HTTP BASELINE_HTTPS=$CONFLUX_HTTPS
check_ports_free "$CONFLUX_HTTP" "$CONFLUX_HTTPS" "$CONFLUX_PROBES" "$BACKEND_PORT" "$BACKEND_TLS_PORT" "$PROXY_PORT" "$PROXY_TLS_PORT"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
taskset -pc "$WRK_CPUS" $$ >/dev/null

bench_init_run conflux-callgrind
make_content
start_backend
make_home "$RUN/home" 1 "${BENCH_CONFLUX_TOML:-}"
make_home "$RUN/home-b" 1 "${BENCH_BASELINE_TOML:-}"

# The first start of a home generates its TLS certificate: done natively, not counted.
for t in $TARGETS; do
    case $t in
        conflux) CONFLUX_BIN=$MEASURED_BIN home=$RUN/home ;;
        baseline) CONFLUX_BIN=$BASELINE_BIN home=$RUN/home-b ;;
        *) continue ;;
    esac
    start_conflux "$home" "$RUN/$t-first.log"
    wait_http "$CONFLUX_HTTP" /bench/1k "$CONFLUX_PID" "$t"
    stop_conflux
done
CONFLUX_BIN=$MEASURED_BIN

# IR <- the instruction count (Ir) of the newest callgrind dump with the prefix PREFIX
read_dump() {
    local file line
    # PREFIX.PID.PART: the highest part is the newest dump.
    file=$(find "$RUN" -maxdepth 1 -name "$(basename "$1").[0-9]*.[0-9]*" | sort -V | tail -n 1)
    [[ -n $file ]] || die "callgrind wrote no dump for $1"
    IR=""
    while read -r line; do
        [[ $line =~ ^(totals|summary):\ ([0-9]+) ]] && { IR=${BASH_REMATCH[2]}; break; }
    done <"$file"
    [[ -n $IR ]] || die "no totals in the callgrind dump $file"
    DUMP=$file
}

# COPY_IR <- instructions spent in memcpy/memmove in the dump DUMP: the cost of every call to them
# (callgrind's "calls=" lines carry the callee's inclusive cost; names are compressed as "(id) name"
# at first use). Under valgrind each byte of a `rep movsb` copy counts as one instruction.
copy_instructions() {
    COPY_IR=$(awk '
        function define(s,    id) {
            if (match(s, /^\([0-9]+\) /)) { id = substr(s, 1, RLENGTH - 1); name[id] = substr(s, RLENGTH + 1); return name[id] }
            return (s in name) ? name[s] : s
        }
        /^fn=/ { define(substr($0, 4)); next }
        /^cfn=/ { callee = define(substr($0, 5)); next }
        /^calls=/ { getline cost; if (callee ~ /(^|[^a-z])(memcpy|memmove)/) { split(cost, c, " "); total += c[2] } next }
        END { printf "%d", total }' "$DUMP")
}

control() { # PID -z|-d: zero or dump the counters (callgrind_control, through vgdb)
    callgrind_control "$2" "$1" >>"$RUN/callgrind_control.log" 2>&1 || die "callgrind_control $2 $1 failed (see $RUN/callgrind_control.log)"
}

CG_TSV=$RUN/callgrind.tsv
: >"$CG_TSV"
HAD_ERRORS=0

measure_ir() { # SCENARIO PATH POST EXPECT TARGET
    local name=$1 path=$2 post=$3 expect=$4 t=$5 prefix pid t0 t1 idle_ir idle_us load_us requests errs line per_req
    prefix=$RUN/cg-$name-$t
    case $t in
        conflux | baseline)
            home=$RUN/home CONFLUX_BIN=$MEASURED_BIN
            [[ $t == baseline ]] && home=$RUN/home-b CONFLUX_BIN=$BASELINE_BIN
            # Names written out in every dump, so that callgrind_annotate can read one dump alone.
            CONFLUX_WRAP=(valgrind --tool=callgrind --compress-strings=no --callgrind-out-file="$prefix.%p")
            start_conflux "$home" "$prefix.log"
            CONFLUX_WRAP=() CONFLUX_BIN=$MEASURED_BIN
            pid=$CONFLUX_PID
            wait_http "$CONFLUX_HTTP" /bench/1k "$pid" "Conflux under callgrind" "$START_TIMEOUT_S"
            ;;
        nginx)
            # One process that serves (no master), so that one callgrind counts all of it.
            PROXY_WORKERS=1 render "$BENCH_DIR/nginx-proxy.conf.in" "$RUN/proxy.conf"
            sed -i 's/^master_process on;/master_process off;/' "$RUN/proxy.conf"
            taskset -c "$PROXY_CPUS" valgrind --tool=callgrind --callgrind-out-file="$prefix.%p" \
                nginx -p "$RUN" -c "$RUN/proxy.conf" >"$prefix.log" 2>&1 &
            pid=$!
            STARTED_PIDS+=("$pid")
            wait_http "$PROXY_PORT" /bench/1k "$pid" "nginx under callgrind" "$START_TIMEOUT_S"
            ;;
    esac
    if ! check_body "$t" "$path" "$post" "$CONNS" http "$expect"; then
        HAD_ERRORS=1
        stop_pid "$pid"; forget_pid "$pid"
        return 0
    fi
    target_url "$t" http "$path"
    run_wrk "$prefix.warmup" "$CONNS" "$WARMUP" "$post" "$URL"
    sleep_ms 1000 # the warm-up's connections close (not part of the idle reading)
    # Idle: what the process does with nothing to serve (timers, the pool's reaper), per µs.
    control "$pid" -z
    now_us; t0=$NOW_US
    sleep_ms $((IDLE * 1000))
    control "$pid" -d
    now_us; t1=$NOW_US
    read_dump "$prefix"; idle_ir=$IR idle_us=$((t1 - t0))
    # Load.
    control "$pid" -z
    now_us; t0=$NOW_US
    run_wrk "$prefix.wrk" "$CONNS" "$DURATION" "$post" "$URL"
    control "$pid" -d
    now_us; t1=$NOW_US
    read_dump "$prefix"; load_us=$((t1 - t0))
    copy_instructions
    stop_pid "$pid"; forget_pid "$pid"
    line=$(grep '^BENCH ' "$prefix.wrk" || true)
    if [[ ! $line =~ requests=([0-9]+) ]]; then
        log "FAIL $name $t: wrk printed no result"
        HAD_ERRORS=1
        return 0
    fi
    requests=${BASH_REMATCH[1]}
    [[ $line =~ err_connect=([0-9]+)\ err_read=([0-9]+)\ err_write=([0-9]+)\ err_status=([0-9]+)\ err_timeout=([0-9]+) ]]
    errs=$((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4] + BASH_REMATCH[5]))
    if ((requests == 0 || errs > 0)); then
        log "FAIL $name $t: $requests requests, $errs errors (see $prefix.wrk)"
        HAD_ERRORS=1
        return 0
    fi
    per_req=$(awk -v ir="$IR" -v idle="$idle_ir" -v iu="$idle_us" -v lu="$load_us" -v n="$requests" \
        'BEGIN { printf "%.0f", (ir - idle / iu * lu) / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$t" "$requests" "$IR" "$idle_ir" "$idle_us" "$per_req" "$COPY_IR" >>"$CG_TSV"
    log "  $name $t: $requests requests, $IR instructions (idle: $idle_ir in $((idle_us / 1000)) ms; memcpy/memmove: $COPY_IR) -> $per_req per request"
}

log "mode $MODE: ${#CHOSEN[@]} scenario(s) x targets $TARGETS; wrk -c$CONNS, ${WARMUP} s warm-up, ${IDLE} s idle, ${DURATION} s load; proxy on cpu $PROXY_CPUS"
for spec in "${CHOSEN[@]}"; do
    IFS='|' read -r name path post expect <<<"$spec"
    for t in $TARGETS; do measure_ir "$name" "$path" "$post" "$expect" "$t"; done
done

GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then GIT_REV+=" (with uncommitted changes)"; fi
{
    echo "### Instructions per request, $(date -u +%Y-%m-%dT%H:%M:%SZ) ($MODE)"
    echo
    echo "- Command: \`$COMMAND_LINE\` (Conflux binary \`${MEASURED_BIN#"$REPO"/}\`, commit $GIT_REV${BASELINE_BIN:+; baseline \`$BASELINE_BIN\`}); $(valgrind --version), nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')"
    echo "- Proxy under \`valgrind --tool=callgrind\` on cpu $PROXY_CPUS; \`wrk -t1 -c$CONNS\` for ${DURATION} s after ${WARMUP} s of warm-up; user-space instructions of the load minus the idle rate (${IDLE} s reading), divided by the requests wrk counted"
    echo
    awk -F'\t' '
        { s = $1; t = $2; if (!(s in seen)) { seen[s] = 1; order[++n] = s } per[s, t] = $7; req[s, t] = $3; ir[s, t] = $4; idle[s, t] = $5 / ($6 / 1e6); copy[s, t] = $8 / $3 }
        END {
            print "| Scenario | Target | requests | instructions | idle instructions/s | instructions per request | of which memcpy/memmove | Conflux/nginx |"
            print "|---|---|---:|---:|---:|---:|---:|---:|"
            nt = split("nginx conflux baseline", ts, " ")
            for (i = 1; i <= n; i++) {
                s = order[i]
                for (k = 1; k <= nt; k++) {
                    t = ts[k]
                    if (!((s, t) in per)) continue
                    r = (t != "nginx" && ((s, "nginx") in per)) ? sprintf("%.2f", per[s, t] / per[s, "nginx"]) : "–"
                    printf "| %s | %s | %d | %d | %.0f | %.1fk | %.1fk | %s |\n", s, t, req[s, t], ir[s, t], idle[s, t], per[s, t] / 1000, copy[s, t] / 1000, r
                }
            }
        }' "$CG_TSV"
} >"$RUN/report.md"
cat "$RUN/report.md"

if ((HAD_ERRORS)); then
    log "some points answered wrong or had errors (see above)"
    exit 4
fi
exit 0
