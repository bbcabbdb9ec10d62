# shellcheck shell=bash
# Shared steps of the scripts that run a release Conflux against scripts/reliability/fault_backend.py
# (scripts/reliability/soak.sh, bench/iterate_memory.sh): installing missing tools, finding the
# binary, starting the backend, finding a free port offset and stopping processes. Sourced, never
# run; the caller defines `log` and `die` and sets REPO (the workspace root) before sourcing.

# install_missing TOOL:PACKAGE... — apt-get installs the PACKAGE of each TOOL not on PATH (root only).
install_missing() {
    local spec need=()
    for spec in "$@"; do
        command -v "${spec%%:*}" >/dev/null || need+=("${spec#*:}")
    done
    if ((${#need[@]})); then
        [[ $(id -u) == 0 ]] || die "missing ${need[*]} and not root: install them with apt-get"
        log "installing from Debian: ${need[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
            die "apt-get install ${need[*]} failed"
    fi
}

# resolve_conflux_bin — CONFLUX_BIN from the environment (never rebuilt), or target/release/conflux,
# built first when BUILD is 1; dies when there is no executable.
resolve_conflux_bin() {
    if [[ -n ${CONFLUX_BIN:-} ]]; then
        BUILD=0
    else
        CONFLUX_BIN=$REPO/target/release/conflux
    fi
    if ((BUILD)); then
        log "cargo build --release -p conflux"
        (cd "$REPO" && cargo build --release -p conflux) || die "cargo build --release -p conflux failed"
    fi
    [[ -x $CONFLUX_BIN ]] || die "no Conflux binary at $CONFLUX_BIN"
}

# start_fault_backend RUN-DIR — starts fault_backend.py in the background; sets BACKEND_PID,
# BACKEND_PORT and REFUSED_PORT (a port nothing listens on).
start_fault_backend() {
    python3 "$REPO/scripts/reliability/fault_backend.py" "$1/backend.ports" >"$1/backend.log" 2>&1 &
    BACKEND_PID=$!
    for _ in $(seq 1 200); do [[ -s $1/backend.ports ]] && break; sleep 0.05; done
    read -r BACKEND_PORT REFUSED_PORT <"$1/backend.ports" || die "the fault backend did not start: $(cat "$1/backend.log")"
}

# find_port_offset START — sets OFFSET to the first of START, START+37, … (50 tries) at which none of
# Conflux's default ports (HTTP, HTTPS, probes, …) is listened on.
find_port_offset() {
    local base all_free
    OFFSET=$1
    for _ in $(seq 1 50); do
        all_free=1
        for base in 8280 8243 9191 9154 9999 11111; do
            [[ -z $(ss -Htln "sport = :$((base + OFFSET))") ]] || { all_free=0; break; }
        done
        ((all_free)) && return 0
        OFFSET=$((OFFSET + 37))
    done
    die "no free port offset found from $1"
}

# stop_pids PID... — SIGTERM to each, up to 12 s for it to exit, then SIGKILL. Empty ids are skipped.
stop_pids() {
    local pid
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "$@"; do
        for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}
