#!/usr/bin/env bash
# shellcheck disable=SC2086 # $PIDS is a list of process ids, split on purpose
# Memory of the proxy against issue 22's targets: idle RSS after start (<= 20 MB) and RSS at 500
# connections x 100 KiB responses (<= 64 MB), for Conflux and, as the reference, nginx as the
# reverse proxy, with bench/run.sh's backend, home and nginx config (bench/lib.sh).
#
# Idle: the process is started MEM_STARTS times; VmRSS 1 s after its first 200 on /bench/1k; the
# median. Load: a fresh process; VmHWM reset; `wrk -c500` GET of 100 KiB (or --path) for
# MEM_DURATION s while VmRSS is sampled every 100 ms; then VmHWM (the peak), and VmRSS 2 s after
# the load. Proxy on one CPU (layout A). `--help` for the options.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
COMMAND_LINE="bench/memory.sh${*:+ $*}"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# The targets of issue 22, in kB (MB as the other bench reports count them: 1024 kB).
IDLE_TARGET_KB=20480
LOAD_TARGET_KB=65536

usage() {
    cat <<'EOF'
Usage: bench/memory.sh [--quick] [--targets LIST] [--path PATH] [--strict] [--no-build]

  --quick         1 start for the idle figure and 3 s of load: checks that the script works and
                  every answer is right (figures are reported, not asserted)
  --targets LIST  comma-separated subset of conflux,nginx [both]
  --path PATH     what the load GETs, after /bench [/100k]; e.g. /idiom-out-send/100k
  --strict        exit 2 when Conflux misses a target
  --no-build      do not run `cargo build --release -p conflux`

Environment (defaults in brackets):
  CONFLUX_BIN       Conflux binary [target/release/conflux]; setting it implies --no-build
  BENCH_CONFLUX_TOML  TOML appended to the deployment.toml of Conflux's home
  MEM_DURATION      seconds of load [10; 3 with --quick]
  MEM_CONNS         wrk connections [500]
  MEM_STARTS        starts for the idle figure [3; 1 with --quick]
  MEM_PORT_OFFSET   Conflux -DportOffset [15000]
  MEM_PORT_BASE     first of the 4 nginx ports [22200]
  BENCH_KEEP=1      keep the temp dir

Exit status: 0 measured (and, with --strict, the targets met); 2 a target missed (--strict);
4 a wrong answer or wrk errors; 1 the script itself failed.
EOF
}

MODE=full
BUILD=1
STRICT=0
TARGETS="conflux nginx"
LOAD_PATH=/100k
while (($#)); do
    case $1 in
        --quick) MODE=quick ;;
        --targets)
            [[ $# -ge 2 ]] || die "--targets needs a value (conflux,nginx)"
            TARGETS=${2//,/ }
            shift
            ;;
        --path)
            [[ $# -ge 2 && $2 == /* ]] || die "--path needs a path starting with / (after /bench)"
            LOAD_PATH=$2
            shift
            ;;
        --strict) STRICT=1 ;;
        --no-build) BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
for t in $TARGETS; do
    case $t in conflux | nginx) ;; *) die "unknown target '$t' (valid: conflux, nginx)" ;; esac
done
if [[ $MODE == quick ]]; then
    DURATION=${MEM_DURATION:-3} STARTS=${MEM_STARTS:-1}
else
    DURATION=${MEM_DURATION:-10} STARTS=${MEM_STARTS:-3}
fi
CONNS=${MEM_CONNS:-500}
WRK_TIMEOUT=5s
case $LOAD_PATH in
    */1k) EXPECT=1024 ;;
    */100k) EXPECT=102400 ;;
    *) die "--path must end in /1k or /100k (the backend's bodies)" ;;
esac

ensure_tools
NCPU=$(nproc)
if ((NCPU >= 2)); then
    WRK_CPUS=0 BACKEND_CPUS=1 PROXY_CPUS=1
else
    WRK_CPUS=0 BACKEND_CPUS=0 PROXY_CPUS=0
fi
prepare_conflux_bin

bench_ports "${MEM_PORT_OFFSET:-15000}" "${MEM_PORT_BASE:-22200}"
check_ports_free "$CONFLUX_HTTP" "$CONFLUX_HTTPS" "$CONFLUX_PROBES" "$BACKEND_PORT" "$BACKEND_TLS_PORT" "$PROXY_PORT" "$PROXY_TLS_PORT"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
taskset -pc "$WRK_CPUS" $$ >/dev/null

bench_init_run conflux-memory
make_content
start_backend
make_home "$RUN/home" 1 "${BENCH_CONFLUX_TOML:-}"
# nginx gets as many workers as Conflux has worker threads on the proxy CPU (bench/run.sh's rule).
PROXY_WORKERS=1

MEM_TSV=$RUN/memory.tsv
: >"$MEM_TSV"
HAD_ERRORS=0

start_target() { # TARGET LOG: a fresh proxy answering 200 on /bench/1k; PIDS <- its processes
    case $1 in
        conflux)
            start_conflux "$RUN/home" "$2"
            wait_http "$CONFLUX_HTTP" /bench/1k "$CONFLUX_PID" Conflux
            PIDS=$CONFLUX_PID
            ;;
        nginx)
            start_nginx_proxy
            nginx_pids "$PROXY_PID"
            ;;
    esac
}

stop_target() { # TARGET
    case $1 in
        conflux) stop_conflux ;;
        nginx) stop_pid "$PROXY_PID"; forget_pid "$PROXY_PID"; PROXY_PID="" ;;
    esac
}

median() { # VALUES...: MEDIAN <- their median (integers)
    local -a sorted
    mapfile -t sorted < <(printf '%s\n' "$@" | sort -n)
    MEDIAN=${sorted[$((${#sorted[@]} / 2))]}
}

if [[ " $TARGETS " == *" conflux "* ]]; then
    # The first start of the home generates its TLS certificate: not measured.
    start_target conflux "$RUN/conflux-first.log"
    worker_threads "$CONFLUX_PID"
    ((WORKERS >= 1)) && PROXY_WORKERS=$WORKERS
    stop_target conflux
fi

for t in $TARGETS; do
    # Idle.
    idle_s=() anon_s=() file_s=()
    for ((r = 1; r <= STARTS; r++)); do
        start_target "$t" "$RUN/$t-idle-$r.log"
        sleep_ms 1000
        proc_status_kb VmRSS $PIDS; idle_s+=("$KB")
        proc_status_kb RssAnon $PIDS; anon_s+=("$KB")
        proc_status_kb RssFile $PIDS; file_s+=("$KB")
        log "$t idle #$r: VmRSS ${idle_s[-1]} kB (anonymous ${anon_s[-1]}, file-backed ${file_s[-1]}) 1 s after the first 200"
        stop_target "$t"
    done
    median "${idle_s[@]}"; idle_kb=$MEDIAN
    median "${anon_s[@]}"; anon_kb=$MEDIAN
    median "${file_s[@]}"; file_kb=$MEDIAN

    # Load.
    start_target "$t" "$RUN/$t-load.log"
    if ! check_body "$t" "$LOAD_PATH" 0 "$CONNS" http "$EXPECT"; then
        HAD_ERRORS=1
        stop_target "$t"
        continue
    fi
    reset_peak_rss $PIDS
    target_url "$t" http "$LOAD_PATH"
    run_wrk "$RUN/$t-load.wrk" "$CONNS" "$DURATION" 0 "$URL" &
    wrk_pid=$!
    max_rss=0 fds_mid=0 samples=0
    while kill -0 "$wrk_pid" 2>/dev/null; do
        sleep_ms 100
        proc_status_kb VmRSS $PIDS
        ((KB > max_rss)) && max_rss=$KB
        samples=$((samples + 1))
        if ((samples == DURATION * 5)); then # about half-way: the descriptors the load holds open
            fds_mid=0
            for pid in $PIDS; do
                fds=(/proc/"$pid"/fd/*)
                fds_mid=$((fds_mid + ${#fds[@]}))
            done
        fi
    done
    wait "$wrk_pid" || true
    proc_status_kb VmHWM $PIDS; hwm=$KB
    sleep_ms 2000
    proc_status_kb VmRSS $PIDS; after=$KB
    stop_target "$t"
    line=$(grep '^BENCH ' "$RUN/$t-load.wrk" || true)
    if [[ ! $line =~ requests=([0-9]+) ]]; then
        log "FAIL $t: wrk printed no result"; tail -n 5 "$RUN/$t-load.wrk" >&2
        HAD_ERRORS=1
        continue
    fi
    requests=${BASH_REMATCH[1]}
    [[ $line =~ err_connect=([0-9]+)\ err_read=([0-9]+)\ err_write=([0-9]+)\ err_status=([0-9]+)\ err_timeout=([0-9]+) ]]
    errs=$((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4] + BASH_REMATCH[5]))
    if ((requests == 0 || errs > 0)); then
        log "FAIL $t: $requests requests, $errs errors under load (see $RUN/$t-load.wrk)"
        HAD_ERRORS=1
    fi
    log "$t load: $requests requests, $errs errors, VmHWM $hwm kB, max sampled VmRSS $max_rss kB, VmRSS $after kB 2 s after, $fds_mid descriptors mid-load"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$STARTS" "$idle_kb" "$anon_kb" "$file_kb" "$hwm" "$max_rss" "$after" "$fds_mid" "$requests" "$errs" >>"$MEM_TSV"
done

MISSED=0
{
    echo "### Memory, $(date -u +%Y-%m-%dT%H:%M:%SZ) ($MODE)"
    echo
    echo "- Command: \`$COMMAND_LINE\` (Conflux binary \`${CONFLUX_BIN#"$REPO"/}\`); proxy on cpu $PROXY_CPUS ($PROXY_WORKERS nginx worker(s))"
    echo "- Idle: VmRSS 1 s after the first 200 on \`/bench/1k\`, median of $STARTS start(s). Load: \`wrk -t1 -c$CONNS\` GET \`/bench$LOAD_PATH\` for ${DURATION} s; peak = VmHWM (reset before the load); VmRSS sampled every 100 ms; nginx: sum over master and workers"
    echo
    echo "| Process | idle RSS MB | idle anonymous / file-backed MB | peak RSS under load MB | max sampled RSS MB | RSS 2 s after MB | descriptors mid-load | requests | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    while IFS=$'\t' read -r t _ idle anon file hwm max after fds requests errs; do
        printf '| %s | %.1f | %.1f / %.1f | %.1f | %.1f | %.1f | %d | %d | %d |\n' "$t" "$(awk -v k="$idle" 'BEGIN {print k / 1024}')" \
            "$(awk -v k="$anon" 'BEGIN {print k / 1024}')" "$(awk -v k="$file" 'BEGIN {print k / 1024}')" \
            "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')" "$(awk -v k="$max" 'BEGIN {print k / 1024}')" \
            "$(awk -v k="$after" 'BEGIN {print k / 1024}')" "$fds" "$requests" "$errs"
    done <"$MEM_TSV"
    while IFS=$'\t' read -r t _ idle anon file hwm max after fds requests errs; do
        [[ $t == conflux ]] || continue
        echo
        echo "Targets (issue 22), memory:"
        echo
        if ((idle <= IDLE_TARGET_KB)); then v=met; else v=MISSED; MISSED=1; fi
        printf -- '- idle RSS <= 20 MB: **%s** (%.1f MB)\n' "$v" "$(awk -v k="$idle" 'BEGIN {print k / 1024}')"
        if ((hwm <= LOAD_TARGET_KB)); then v=met; else v=MISSED; MISSED=1; fi
        printf -- '- RSS at %d connections x %s <= 64 MB: **%s** (peak %.1f MB)\n' "$CONNS" "${LOAD_PATH##*/}" "$v" "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')"
    done <"$MEM_TSV"
} >"$RUN/report.md"
cat "$RUN/report.md"

if ((HAD_ERRORS)); then
    log "some answers were wrong or had errors (see above)"
    exit 4
fi
if ((STRICT && MISSED)); then
    log "a memory target was missed (--strict)"
    exit 2
fi
exit 0
