#!/usr/bin/env bash
# Memory of Conflux under an <iterate> of 10,000 elements (issue 14: "Memory stays bounded under an
# iterate of 10,000 elements, as measured in bench/ and reported"). A release build serves one API
# that splits a JSON array with `iterate`, `call`s a backend with each part and `aggregate`s the
# replies; the script posts the array several times and samples the process's memory
# (/proc/PID/status VmRSS and VmHWM) before, during and after each round. `--help` for the options.
#
# Rounds (each one POST of ELEMENTS elements, one at a time):
#   all    every part gets its reply (scripts/reliability/fault_backend.py /ok, 1 KiB of JSON); the
#          aggregation completes when the last part arrives; the answer must hold ELEMENTS values.
#   drop   every DROP_EVERY-th part goes to /stall instead, which never answers: those parts hold
#          their in-flight places until the aggregation completes by its timeout (ITER_TIMEOUT_S),
#          which must answer with every other part and drop the stalled calls.
# Order: `all` rounds, one `drop` round in the middle, `all` rounds again.
#
# Pass (exit 0): every answer right; VmHWM (the process's peak so far) after the last round, and
# VmRSS after it, at most ITER_RSS_SLACK_MIB above VmHWM after the `all` rounds before the `drop`
# round: the rounds after it, the drop round included, need no more memory than the first ones
# did (the allocator's own noise from round to round is several MiB); open descriptors after
# the last round within ITER_FD_SLACK of their count after the first (the first round fills the
# pool of backend connections; the drop round's stalled connections must have been closed).
# Exit 2 on fail, 1 when the harness itself fails.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
COMMAND_LINE="bench/iterate_memory.sh${*:+ $*}"

usage() {
    cat <<'EOF'
Usage: bench/iterate_memory.sh [--quick] [--rounds N] [--elements N] [--no-build] [--keep]

  --quick        3 `all` rounds, the `drop` round (5 s timeout) and 3 `all` rounds again; under
                 60 s after the build
  --rounds N     `all` rounds before and after the `drop` round [5; 3 with --quick]
  --elements N   elements in the posted array [10000]
  --no-build     do not run `cargo build --release -p conflux` (use target/release/conflux)
  --keep         keep the temporary home, payloads and logs

Environment (defaults in brackets):
  CONFLUX_BIN          Conflux binary [target/release/conflux]; setting it implies --no-build
  ITER_TIMEOUT_S       the `drop` round's aggregate timeout, in seconds [15; 5 with --quick]
  ITER_DROP_EVERY      every this many-th part of the `drop` round stalls [1000]
  ITER_INFLIGHT        `[mediation] max_inflight_branches` [unset: Conflux's default, 20]
  ITER_RSS_SLACK_MIB   how far the peak and the final VmRSS may exceed the peak of the first
                       rounds [16]
  ITER_FD_SLACK        allowed growth of open descriptors from the first round to the last [8]
  ITER_PORT_OFFSET     first port offset tried for Conflux [16000]
  ITER_OUT             output directory for the report [target/bench]
EOF
}

QUICK=0
ROUNDS=""
ELEMENTS=10000
BUILD=1
KEEP=0
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --rounds)
            [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { echo "iterate_memory.sh: --rounds needs a positive whole number" >&2; exit 1; }
            ROUNDS=$2
            shift
            ;;
        --elements)
            [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || { echo "iterate_memory.sh: --elements needs a positive whole number" >&2; exit 1; }
            ELEMENTS=$2
            shift
            ;;
        --no-build) BUILD=0 ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "iterate_memory.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
    shift
done
if ((QUICK)); then
    ROUNDS=${ROUNDS:-3}
    TIMEOUT_S=${ITER_TIMEOUT_S:-5}
else
    ROUNDS=${ROUNDS:-5}
    TIMEOUT_S=${ITER_TIMEOUT_S:-15}
fi
DROP_EVERY=${ITER_DROP_EVERY:-1000}
RSS_SLACK_MIB=${ITER_RSS_SLACK_MIB:-16}
FD_SLACK=${ITER_FD_SLACK:-8}
OUT=${ITER_OUT:-$REPO/target/bench}
# How long an `all` round may take before curl gives up (a hang, not load).
ROUND_MAX_S=300

log() { printf '[iterate-memory %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# shellcheck source=../scripts/lib/conflux_run.sh
source "$REPO/scripts/lib/conflux_run.sh"

install_missing curl:curl ss:iproute2
command -v python3 >/dev/null || die "python3 is needed for the backend (scripts/reliability/fault_backend.py)"

resolve_conflux_bin

RUN=$(mktemp -d /tmp/conflux-iterate-memory.XXXXXX)
CONFLUX_PID=""
BACKEND_PID=""
SAMPLER_PID=""
cleanup() {
    # shellcheck disable=SC2086 # unset ids must vanish
    stop_pids $SAMPLER_PID $CONFLUX_PID $BACKEND_PID
    if ((KEEP)); then log "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT

# --- the backend (the soak test's): /ok answers 1 KiB of JSON, /stall never answers ---------------
start_fault_backend "$RUN"

# --- a free port offset (as scripts/reliability/soak.sh) -------------------------------------------
find_port_offset "${ITER_PORT_OFFSET:-16000}"
HTTP=$((8280 + OFFSET))

# --- the home: one API ---------------------------------------------------------------------------
HOME_DIR=$RUN/home
SYNAPSE=$HOME_DIR/repository/deployment/server/synapse-configs/default
mkdir -p "$HOME_DIR/conf" "$SYNAPSE/api"
{
    printf '[server]\nhostname = "localhost"\n'
    if [[ -n ${ITER_INFLIGHT:-} ]]; then
        printf '\n[mediation]\nmax_inflight_branches = %s\n' "$ITER_INFLIGHT"
    fi
} >"$HOME_DIR/conf/deployment.toml"
B=http://127.0.0.1:$BACKEND_PORT
resource() { # PATH AGGREGATE-TIMEOUT-S
    cat <<EOF
    <resource methods="POST" uri-template="/$1">
        <inSequence>
            <iterate expression="json-eval(\$.items)">
                <target>
                    <sequence>
                        <filter source="json-eval(\$.drop)" regex="true">
                            <then><call><endpoint><address uri="$B/stall"/></endpoint></call></then>
                            <else><call><endpoint><address uri="$B/ok"/></endpoint></call></else>
                        </filter>
                        <aggregate>
                            <completeCondition timeout="$2"><messageCount min="-1" max="-1"/></completeCondition>
                            <onComplete expression="json-eval(\$.ok)"><respond/></onComplete>
                        </aggregate>
                    </sequence>
                </target>
            </iterate>
        </inSequence>
    </resource>
EOF
}
{
    echo '<api xmlns="http://ws.apache.org/ns/synapse" name="IterateMemory" context="/iterate">'
    resource all 600
    resource drop "$TIMEOUT_S"
    echo '</api>'
} >"$SYNAPSE/api/IterateMemory.xml"

# --- the payloads ----------------------------------------------------------------------------------
python3 - "$ELEMENTS" "$DROP_EVERY" "$RUN" <<'EOF'
import json, sys
n, every, run = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for name, drop in (("all", lambda i: False), ("drop", lambda i: i % every == every - 1)):
    items = [{"i": i, "drop": drop(i), "name": f"element {i}"} for i in range(n)]
    with open(f"{run}/{name}.json", "w") as f:
        json.dump({"items": items}, f)
EOF
DROPPED=$((ELEMENTS / DROP_EVERY))
# What the drop round answers: every part but the stalled ones, when there are more in-flight
# places than stalled parts; otherwise the stalled parts take every place, and the parts after the
# INFLIGHT-th stalled one never start.
INFLIGHT=${ITER_INFLIGHT:-20}
if ((INFLIGHT > DROPPED)); then
    DROP_ANSWER=$((ELEMENTS - DROPPED))
else
    DROP_ANSWER=$((INFLIGHT * (DROP_EVERY - 1)))
fi
PAYLOAD_BYTES=$(stat -c %s "$RUN/all.json")

# --- Conflux ---------------------------------------------------------------------------------------
"$CONFLUX_BIN" --home "$HOME_DIR" "-DportOffset=$OFFSET" >"$RUN/conflux.out" 2>&1 &
CONFLUX_PID=$!
for _ in $(seq 1 300); do
    grep -q "Conflux started in" "$RUN/conflux.out" 2>/dev/null && break
    kill -0 "$CONFLUX_PID" 2>/dev/null || die "Conflux exited: $(tail -20 "$RUN/conflux.out")"
    sleep 0.1
done
grep -q "Conflux started in" "$RUN/conflux.out" || die "Conflux did not start: $(tail -20 "$RUN/conflux.out")"
log "Conflux pid $CONFLUX_PID on offset $OFFSET (HTTP $HTTP); backend $BACKEND_PORT; $ELEMENTS elements ($PAYLOAD_BYTES bytes), $ROUNDS + drop + $ROUNDS rounds"

status_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$CONFLUX_PID/status"; }
fds() { find "/proc/$CONFLUX_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# One round: posts the payload while a sampler reads VmRSS every 20 ms; prints
# "kind status seconds values rss_before rss_peak hwm rss_after fds_after" (KiB).
round() { # KIND
    local kind=$1 before code seconds values peak hwm after
    before=$(status_kib VmRSS)
    (
        while kill -0 "$CONFLUX_PID" 2>/dev/null; do
            awk '$1 == "VmRSS:" {print $2}' "/proc/$CONFLUX_PID/status" 2>/dev/null || true
            sleep 0.02
        done
    ) >"$RUN/samples" &
    SAMPLER_PID=$!
    read -r code seconds < <(curl -s -o "$RUN/answer" -w '%{http_code} %{time_total}\n' --max-time $ROUND_MAX_S \
        -H 'Content-Type: application/json' --data-binary "@$RUN/$kind.json" "http://127.0.0.1:$HTTP/iterate/$kind" || echo "000 0")
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    values=$(python3 -c 'import json,sys
try:
    v = json.load(open(sys.argv[1]))
    print(len(v) if isinstance(v, list) else -1)
except Exception:
    print(-1)' "$RUN/answer")
    peak=$(sort -n "$RUN/samples" | tail -1)
    # Freed memory goes back to the allocator's pages first; VmRSS is read once it had a moment.
    sleep 1
    hwm=$(status_kib VmHWM)
    after=$(status_kib VmRSS)
    echo "$kind $code $seconds $values $before ${peak:-$before} $hwm $after $(fds)"
}

mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%d-%H%M%S)
REPORT=$OUT/iterate-memory-$STAMP.txt
ROWS=$RUN/rows
idle_rss=$(status_kib VmRSS)
fds_before=$(fds)
: >"$ROWS"
kinds=()
for _ in $(seq 1 "$ROUNDS"); do kinds+=(all); done
kinds+=(drop)
for _ in $(seq 1 "$ROUNDS"); do kinds+=(all); done
n=0
for kind in "${kinds[@]}"; do
    n=$((n + 1))
    kill -0 "$CONFLUX_PID" 2>/dev/null || die "Conflux died before round $n: $(tail -20 "$RUN/conflux.out")"
    row=$(round "$kind")
    echo "$n $row" >>"$ROWS"
    log "round $n: $row"
done

set +e
awk -v elements="$ELEMENTS" -v dropped="$DROPPED" -v drop_answer="$DROP_ANSWER" -v slack=$((RSS_SLACK_MIB * 1024)) -v fd_slack="$FD_SLACK" \
    -v idle="$idle_rss" -v fds0="$fds_before" -v timeout="$TIMEOUT_S" -v bytes="$PAYLOAD_BYTES" \
    -v cmd="$COMMAND_LINE" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v cpus="$(nproc)" \
    -v cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    -v rev="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    -v inflight="${ITER_INFLIGHT:-default (20)}" -v rounds="$ROUNDS" '
{ n++; kind[n] = $2; code[n] = $3; secs[n] = $4; vals[n] = $5; before[n] = $6; peak[n] = $7; hwm[n] = $8; after[n] = $9; fd[n] = $10 }
END {
  printf "iterate memory, %s at %s; %s (%d CPUs)\n", date, rev, cpu, cpus
  printf "command: %s\n", cmd
  printf "%d elements per POST (%d bytes of JSON), each part a call to a 1 KiB JSON reply, aggregated; max_inflight_branches %s; drop round: %d parts stall, aggregate timeout %d s\n", elements, bytes, inflight, dropped, timeout
  printf "idle VmRSS before the rounds: %.1f MiB; open descriptors %d\n\n", idle / 1024, fds0
  printf "| round | kind | status | seconds | values | VmRSS before MiB | VmRSS peak MiB | VmHWM MiB | VmRSS after MiB | fds after |\n"
  printf "|---|---|---|---|---|---|---|---|---|---|\n"
  ok = 1
  for (i = 1; i <= n; i++) {
    want = (kind[i] == "drop") ? drop_answer : elements
    good = (code[i] == 200 && vals[i] == want)
    if (!good) ok = 0
    printf "| %d | %s | %s | %.2f | %d%s | %.1f | %.1f | %.1f | %.1f | %d |\n", i, kind[i], code[i], secs[i], vals[i], good ? "" : " (want " want ")", before[i] / 1024, peak[i] / 1024, hwm[i] / 1024, after[i] / 1024, fd[i]
  }
  # The reference: the peak of the process over the `all` rounds before the `drop` round.
  ref = hwm[rounds]
  hwm_growth = hwm[n] - ref; rss_growth = after[n] - ref; fd_growth = fd[n] - fd[1]
  printf "\npeak (VmHWM) after the %d rounds before the drop round: %.1f MiB; after the last round: %.1f MiB (%+.1f MiB, allowed +%d)\n", rounds, ref / 1024, hwm[n] / 1024, hwm_growth / 1024, slack / 1024
  printf "VmRSS after the last round: %.1f MiB (%+.1f MiB against that peak, allowed +%d); after round 1: %.1f MiB\n", after[n] / 1024, rss_growth / 1024, slack / 1024, after[1] / 1024
  printf "descriptors: %d before the rounds, %d after round 1, %d after the last (growth %+d, allowed %d)\n", fds0, fd[1], fd[n], fd_growth, fd_slack
  pass = ok && rss_growth <= slack && hwm_growth <= slack && fd_growth <= fd_slack
  printf "result: %s%s\n", pass ? "PASS" : "FAIL", ok ? "" : " (a wrong answer)"
  exit pass ? 0 : 2
}' "$ROWS" | tee "$REPORT"
status=${PIPESTATUS[0]}
set -e
log "report $REPORT"
exit "$status"
