#!/usr/bin/env bash
# Regenerates crates/conflux/link-order.txt: the symbols of the functions a release Conflux runs
# from its start to being idle after serving the bench requests, in the order it first runs them.
# crates/conflux/build.rs hands the file to the linker (--symbol-ordering-file) for release builds,
# which puts those functions next to each other at the start of .text: an idle process then maps a
# few MB of contiguous code instead of touching pages all over the 23 MB of .text (each touch maps a
# whole page-cache folio, 64 KiB or more; see bench/BENCHMARKS.md, "Idle memory").
#
# The functions are read from callgrind (exact: every function that ran, not a sample) with
# mangled names, over two starts: on one CPU (the current-thread runtime, as bench/memory.sh and
# bench/run.sh run Conflux) and on every CPU (the multi-thread runtime). Each start serves the
# requests of REQUESTS below over HTTP and HTTPS, then stays idle for 2 s.
#
# Stale names are harmless (the linker skips symbols it does not find), so the file only needs
# regenerating when start-up or the request path changed much, when the toolchain changed (std's
# symbol hashes) or when crates/conflux's dependencies changed (the hashes of the generic functions
# it instantiates): `--check` says how much of the list a release binary still has.
# `--help` for the options.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

OUT=$REPO/crates/conflux/link-order.txt
# Below this share of the list present in the binary, --check calls the list stale: a fresh list
# finds some 100 % (a few names are of functions the linker dropped).
CHECK_MIN_PERCENT=90

usage() {
    cat <<EOF
Usage: bench/link-order.sh [--no-build] [--out FILE] [--check]

  --no-build   do not run \`cargo build --release -p conflux\`
  --out FILE   where to write the symbol list [crates/conflux/link-order.txt]
  --check      write nothing: count the listed symbols the binary defines; exit 2 when fewer
               than $CHECK_MIN_PERCENT % (the list is stale: regenerate it)

Environment (defaults in brackets):
  CONFLUX_BIN     Conflux binary [target/release/conflux]; setting it implies --no-build
  LO_PORT_OFFSET  Conflux -DportOffset [16000]
  LO_PORT_BASE    first of the 4 nginx ports [22300]
  BENCH_KEEP=1    keep the temp dir (the callgrind dumps)
EOF
}

BUILD=1
CHECK=0
TARGETS=conflux
while (($#)); do
    case $1 in
        --no-build) BUILD=0 ;;
        --check) CHECK=1 ;;
        --out)
            [[ $# -ge 2 ]] || die "--out needs a value"
            OUT=$2
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done

if ((CHECK)); then
    prepare_conflux_bin
    [[ -f $OUT ]] || die "no symbol list at $OUT"
    ensure_tools nm:binutils
    read -r listed found < <(awk 'NR == FNR { if ($3 != "") have[$3] = 1; next }
        /^#/ || $0 == "" { next } { n++; if ($0 in have) f++ } END { printf "%d %d\n", n, f }' \
        <(nm "$CONFLUX_BIN") "$OUT")
    ((listed > 0)) || die "$OUT lists no symbol"
    percent=$((found * 100 / listed))
    log "$found of the $listed symbols of ${OUT#"$REPO"/} are in $CONFLUX_BIN ($percent %)"
    if ((percent < CHECK_MIN_PERCENT)); then
        log "below $CHECK_MIN_PERCENT %: the list is stale; regenerate it with bench/link-order.sh"
        exit 2
    fi
    exit 0
fi

# What each start serves once (paths after the port; every one must answer 200).
REQUESTS=(/bench/1k /bench/100k)
for idiom in "${IDIOMS[@]}"; do
    [[ $idiom == cbr-* ]] && continue # a POST
    REQUESTS+=("/bench/$idiom/1k")
done
START_TIMEOUT_S=120

ensure_tools valgrind:valgrind curl:curl
NCPU=$(nproc)
if ((NCPU >= 2)); then
    WRK_CPUS=0 BACKEND_CPUS=0 PROXY_CPUS=1
else
    WRK_CPUS=0 BACKEND_CPUS=0 PROXY_CPUS=0
fi
WRK_TIMEOUT=10s
prepare_conflux_bin
bench_ports "${LO_PORT_OFFSET:-16000}" "${LO_PORT_BASE:-22300}"
check_ports_free "$CONFLUX_HTTP" "$CONFLUX_HTTPS" "$CONFLUX_PROBES" "$BACKEND_PORT" "$BACKEND_TLS_PORT"

bench_init_run conflux-link-order
make_content
start_backend
make_home "$RUN/home" 1 ""

# The first start of a home generates its TLS certificate: not part of a normal start.
start_conflux "$RUN/home" "$RUN/first.log"
wait_http "$CONFLUX_HTTP" /bench/1k "$CONFLUX_PID" Conflux
stop_conflux

ALL_CPUS=$(taskset -pc $$ | sed 's/.*: //')
for cpus in "$PROXY_CPUS" "$ALL_CPUS"; do
    log "callgrind start on cpus $cpus"
    CONFLUX_WRAP=(valgrind --tool=callgrind --demangle=no --compress-strings=no --dump-instr=no
        --callgrind-out-file="$RUN/cg.$cpus.%p")
    PROXY_CPUS=$cpus start_conflux "$RUN/home" "$RUN/cg.$cpus.log"
    CONFLUX_WRAP=()
    wait_http "$CONFLUX_HTTP" /bench/1k "$CONFLUX_PID" "Conflux under callgrind" "$START_TIMEOUT_S"
    for path in "${REQUESTS[@]}"; do
        for url in "http://127.0.0.1:$CONFLUX_HTTP$path" "https://127.0.0.1:$CONFLUX_HTTPS$path"; do
            code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 60 "$url") || code=none
            [[ $code == 200 ]] || die "$url answered $code under callgrind"
        done
    done
    sleep_ms 2000
    stop_conflux
done

# Every function of the conflux binary's own object in the dumps, first appearance first.
bin_name=$(basename "$CONFLUX_BIN")
awk -v bin="/$bin_name" '
    /^ob=/ { ours = (substr($0, length($0) - length(bin) + 1) == bin); next }
    /^fn=/ && ours {
        # callgrind names recursion levels NAME'"'"'2, ...; "0x..." and "(below main)" are not symbols.
        name = substr($0, 4)
        sub(/'"'"'[0-9]+$/, "", name)
        if (!(name in seen) && name !~ /^(0x|\()/) { seen[name] = 1; print name }
    }
' "$RUN"/cg.*.[0-9]* >"$RUN/order.txt"
count=$(wc -l <"$RUN/order.txt")
((count > 500)) || die "only $count functions found in the callgrind dumps (is $CONFLUX_BIN stripped?)"
{
    echo "# Generated by bench/link-order.sh on $(date -u +%Y-%m-%d): do not edit by hand."
    cat "$RUN/order.txt"
} >"$OUT"
log "wrote $count symbols to ${OUT#"$REPO"/}"
