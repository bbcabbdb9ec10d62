#!/usr/bin/env bash
# Data services under load (issue 16: "bench/ reports a simple GET-by-id data service's req/s and CPU
# per request on SQLite and PostgreSQL"). A release build serves two data services from one
# generated home, the same `.dbs` on two data sources: BenchSqlite (`jdbc:sqlite:`, a file in the
# home) and BenchPostgres (`jdbc:postgresql://`, a private PostgreSQL started here from Debian's
# binaries, as crates/dataservices/src/db/testing.rs does, and stopped by its PID at the end). Each
# holds the same DS_ROWS employees; wrk (closed loop, HTTP/1.1 keep-alive, bench/dataservices.lua)
# asks `GET /services/<name>/employees/<random id>` and every answer is one row in MI's XML.
#
# Runs alternate between the two targets; each point is the median of its runs. CPU per request is
# read from /proc/PID/stat: Conflux's (which, on SQLite, includes the database work: SQLite runs in
# its process) and PostgreSQL's (the postmaster, its live backends and its reaped children).
# `--help` for the options. Exit 0 when every run answered 200 with the right bodies, 4 when some
# had errors or wrong bodies, 1 when the harness itself failed.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BENCH_DIR # dataservices.lua loads report.lua from there
REPO=$(cd "$BENCH_DIR/.." && pwd)
COMMAND_LINE="bench/dataservices.sh${*:+ $*}"

usage() {
    cat <<'EOF'
Usage: bench/dataservices.sh [--quick] [--targets LIST] [--no-build] [--keep]

  --quick         1 run of 2 s per target after 1 s of warm-up, 1,000 rows: checks that the
                  harness works (under 60 s after the build)
  --targets LIST  comma-separated subset of sqlite,postgres [both]
  --no-build      do not run `cargo build --release -p conflux` (use target/release/conflux)
  --keep          keep the temporary home, database and wrk output

Environment (defaults in brackets):
  CONFLUX_BIN        Conflux binary [target/release/conflux]; setting it implies --no-build
  DS_DURATION        seconds per measured run [10; 2 with --quick]
  DS_WARMUP          seconds of warm-up per target [3; 1 with --quick]
  DS_REPS            measured runs per target [5; 1 with --quick]
  DS_CONNECTIONS     wrk connections [50]
  DS_ROWS            employees in each database [10000; 1000 with --quick]
  DS_PORT_OFFSET     first port offset tried for Conflux [17000]
  DS_OUT             output directory for the report [target/bench]

CPU layout on 2+ CPUs: wrk (and this script) on cpu0; Conflux and PostgreSQL on cpu1 (Conflux's
worker count follows its CPU set, so 1 worker), as bench/run.sh's layout A.
PostgreSQL: Debian's `postgresql` package (installed when missing and running as root); as root
the server runs as the `postgres` user.
EOF
}

QUICK=0
BUILD=1 # read by resolve_conflux_bin (scripts/lib/conflux_run.sh)
KEEP=0
TARGETS="sqlite postgres"
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --targets)
            [[ $# -ge 2 ]] || { echo "dataservices.sh: --targets needs a value (sqlite,postgres)" >&2; exit 1; }
            TARGETS=${2//,/ }
            shift
            ;;
        --no-build) BUILD=0 ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "dataservices.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
    shift
done
for t in $TARGETS; do
    case $t in sqlite | postgres) ;; *) echo "dataservices.sh: unknown target '$t' (valid: sqlite, postgres)" >&2; exit 1 ;; esac
done
[[ -n ${TARGETS// /} ]] || { echo "dataservices.sh: --targets is empty" >&2; exit 1; }
if ((QUICK)); then
    DURATION=${DS_DURATION:-2}
    WARMUP=${DS_WARMUP:-1}
    REPS=${DS_REPS:-1}
    ROWS=${DS_ROWS:-1000}
else
    DURATION=${DS_DURATION:-10}
    WARMUP=${DS_WARMUP:-3}
    REPS=${DS_REPS:-5}
    ROWS=${DS_ROWS:-10000}
fi
CONNECTIONS=${DS_CONNECTIONS:-50}
OUT=${DS_OUT:-$REPO/target/bench}
for v in DURATION WARMUP REPS ROWS CONNECTIONS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "dataservices.sh: $v must be a positive whole number, not '${!v}'" >&2; exit 1; }
done
# wrk's per-request timeout: far above any healthy latency here, so a timeout is an error, not load.
WRK_TIMEOUT=5s
# How long Conflux and PostgreSQL may take to answer after they are started.
READY_TIMEOUT_S=30
# The row every target is checked with before it is measured.
CHECK_ID=42
((ROWS >= CHECK_ID)) || { echo "dataservices.sh: DS_ROWS must be at least $CHECK_ID" >&2; exit 1; }

log() { printf '[bench-ds %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# shellcheck source=../scripts/lib/conflux_run.sh
source "$REPO/scripts/lib/conflux_run.sh"

install_missing wrk:wrk curl:curl ss:iproute2 taskset:util-linux sqlite3:sqlite3
if [[ " $TARGETS " == *" postgres "* ]] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    [[ $(id -u) == 0 ]] || die "PostgreSQL is not installed and this is not root: apt-get install postgresql, or --targets sqlite"
    log "installing from Debian: postgresql"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }; then
        die "apt-get install postgresql failed"
    fi
fi
resolve_conflux_bin

NCPU=$(nproc)
if ((NCPU >= 2)); then WRK_CPUS=0 SERVER_CPUS=1; else WRK_CPUS=0 SERVER_CPUS=0; log "warning: only $NCPU CPU; everything shares cpu0"; fi
taskset -pc "$WRK_CPUS" $$ >/dev/null

CLK_TCK=$(getconf CLK_TCK)
RUN=$(mktemp -d /tmp/conflux-bench-ds.XXXXXX)
PG_DIR=""
CONFLUX_PID=""
PG_PID=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $CONFLUX_PID ]] && stop_pids "$CONFLUX_PID"
    if [[ -n $PG_PID ]]; then
        # Fast shutdown (SIGINT): open connections are cut, the postmaster exits.
        kill -INT "$PG_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PG_PID" 2>/dev/null || true
    fi
    if ((KEEP)); then
        log "kept $RUN${PG_DIR:+ and $PG_DIR}"
    else
        rm -rf "$RUN" ${PG_DIR:+"$PG_DIR"}
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- processes: CPU ticks from /proc ---------------------------------------------------------------

# TICKS <- utime+stime of PID (its threads included), plus cutime+cstime (its reaped children) when
# the second argument is "children".
proc_ticks() {
    local line rest
    local -a f
    TICKS=0
    [[ -r /proc/$1/stat ]] || return 0
    read -r line <"/proc/$1/stat" || return 0
    rest=${line##*) }
    read -r -a f <<<"$rest"
    TICKS=$((f[11] + f[12]))
    [[ ${2:-} == children ]] && TICKS=$((TICKS + f[13] + f[14]))
    return 0
}

# PG_TICKS <- the PostgreSQL cluster's CPU: postmaster (with its reaped children) and live children.
pg_ticks() {
    local children="" c
    PG_TICKS=0
    [[ -n $PG_PID ]] || return 0
    proc_ticks "$PG_PID" children
    PG_TICKS=$TICKS
    if [[ -r /proc/$PG_PID/task/$PG_PID/children ]]; then read -r children <"/proc/$PG_PID/task/$PG_PID/children" || true; fi
    for c in $children; do
        proc_ticks "$c"
        PG_TICKS=$((PG_TICKS + TICKS))
    done
}

# BOX_BUSY <- machine-wide busy CPU ticks (idle, iowait and steal excluded)
box_ticks() {
    local user nice system irq softirq
    read -r _ user nice system _ _ irq softirq _ </proc/stat
    BOX_BUSY=$((user + nice + system + irq + softirq))
}

# CHILD_TICKS <- CPU ticks used by the reaped children of this shell so far (wrk, curl, ...), from
# bash's `times` (no fork).
children_ticks() {
    local line2 t ms=0
    times >"$RUN/times"
    { read -r _; read -r line2; } <"$RUN/times"
    for t in $line2; do
        [[ $t =~ ^([0-9]+)m([0-9]+)[.,]([0-9]{3})s$ ]] || continue
        ms=$((ms + 10#${BASH_REMATCH[1]} * 60000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${BASH_REMATCH[3]}))
    done
    CHILD_TICKS=$((ms * CLK_TCK / 1000))
}

free_port() { # PORT <- the first port from $1 nothing listens on
    PORT=$1
    while [[ -n $(ss -Htln "sport = :$PORT") ]]; do PORT=$((PORT + 1)); done
}

# --- PostgreSQL: a private cluster ---------------------------------------------------------------

PG_PORT=""
start_postgres() {
    local bin run_as=() i
    bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)
    PG_DIR=$(mktemp -d /tmp/conflux-bench-pg.XXXXXX)
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root, but there is no postgres user to run PostgreSQL as"
        chown postgres:postgres "$PG_DIR"
        run_as=(setpriv --reuid=postgres --regid=postgres --init-groups)
    fi
    "${run_as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --no-sync \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/init.log" 2>&1 ||
        die "initdb failed: $(tail -n 5 "$PG_DIR/init.log")"
    free_port 25432
    PG_PORT=$PORT
    # The server's own settings except the ones a throwaway benchmark cluster does not need
    # (durability: every measured request is a read).
    taskset -c "$SERVER_CPUS" "${run_as[@]}" "$bin/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -k "$PG_DIR" \
        -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off \
        >"$PG_DIR/server.log" 2>&1 &
    PG_PID=$!
    for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
        kill -0 "$PG_PID" 2>/dev/null || die "PostgreSQL exited at start: $(tail -n 5 "$PG_DIR/server.log")"
        psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -qAtc 'SELECT 1' >/dev/null 2>&1 && break
        sleep 0.1
    done
    psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
        -c "CREATE USER bench PASSWORD 'bench'" -c "CREATE DATABASE bench OWNER bench" >/dev/null ||
        die "PostgreSQL did not accept the bench user and database"
    PGPASSWORD=bench psql -h 127.0.0.1 -p "$PG_PORT" -U bench -d bench -v ON_ERROR_STOP=1 -q -c "$SCHEMA" \
        -c "INSERT INTO employees SELECT i, 'Employee ' || i, 'Dept ' || (i % 10), 1000 + i * 0.5 FROM generate_series(1, $ROWS) AS i" \
        -c "ANALYZE employees" >/dev/null || die "creating the PostgreSQL table failed"
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (pid $PG_PID, $PG_DIR), $ROWS rows"
}

# --- the home: one data service per database ------------------------------------------------------

SCHEMA="CREATE TABLE employees (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, department VARCHAR(100) NOT NULL, salary DOUBLE PRECISION)"
HOME_DIR=$RUN/home
DS_DIR=$HOME_DIR/repository/deployment/server/dataservices
mkdir -p "$HOME_DIR/conf" "$DS_DIR" "$HOME_DIR/db"

write_dbs() { # NAME DRIVER-CLASS URL [USER PASSWORD]
    {
        printf '<data name="%s" transports="http">\n' "$1"
        printf '   <config id="db">\n'
        printf '      <property name="driverClassName">%s</property>\n' "$2"
        printf '      <property name="url">%s</property>\n' "$3"
        [[ -n ${4:-} ]] && printf '      <property name="username">%s</property>\n      <property name="password">%s</property>\n' "$4" "$5"
        cat <<'EOF'
   </config>
   <query id="getEmployee" useConfig="db">
      <sql>SELECT id, name, department, salary FROM employees WHERE id = :id</sql>
      <result element="Employees" rowName="Employee">
         <element column="id" name="id" xsdType="xs:integer"/>
         <element column="name" name="name" xsdType="xs:string"/>
         <element column="department" name="department" xsdType="xs:string"/>
         <element column="salary" name="salary" xsdType="xs:double"/>
      </result>
      <param name="id" sqlType="INTEGER"/>
   </query>
   <resource method="GET" path="employees/{id}">
      <call-query href="getEmployee"><with-param name="id" query-param="id"/></call-query>
   </resource>
</data>
EOF
    } >"$DS_DIR/$1.dbs"
}

for t in $TARGETS; do
    case $t in
        sqlite)
            sqlite3 "$HOME_DIR/db/bench.db" "$SCHEMA;" \
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS) INSERT INTO employees SELECT i, 'Employee ' || i, 'Dept ' || (i % 10), 1000 + i * 0.5 FROM n;" ||
                die "creating the SQLite database failed"
            write_dbs BenchSqlite org.sqlite.JDBC "jdbc:sqlite:db/bench.db"
            ;;
        postgres)
            start_postgres
            write_dbs BenchPostgres org.postgresql.Driver "jdbc:postgresql://127.0.0.1:$PG_PORT/bench" bench bench
            ;;
    esac
done

find_port_offset "${DS_PORT_OFFSET:-17000}"
HTTP=$((8280 + OFFSET))
printf '# Generated by bench/dataservices.sh.\n[server]\nhostname = "localhost"\noffset = %s\n' "$OFFSET" >"$HOME_DIR/conf/deployment.toml"

taskset -c "$SERVER_CPUS" "$CONFLUX_BIN" --home "$HOME_DIR" >"$RUN/conflux.log" 2>&1 &
CONFLUX_PID=$!
for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
    kill -0 "$CONFLUX_PID" 2>/dev/null || die "Conflux exited at start: $(tail -n 5 "$RUN/conflux.log")"
    grep -q 'Conflux started' "$RUN/conflux.log" && break
    sleep 0.1
done
grep -q 'Conflux started' "$RUN/conflux.log" || die "Conflux did not start within ${READY_TIMEOUT_S} s"
log "Conflux (pid $CONFLUX_PID, on cpu $SERVER_CPUS) on 127.0.0.1:$HTTP; wrk on cpu $WRK_CPUS"

service_of() { # TARGET -> SERVICE
    case $1 in sqlite) SERVICE=BenchSqlite ;; postgres) SERVICE=BenchPostgres ;; esac
}

EXPECTED="<Employees xmlns=\"http://ws.wso2.org/dataservice\"><Employee><id>$CHECK_ID</id><name>Employee $CHECK_ID</name><department>Dept $((CHECK_ID % 10))</department><salary>$((1000 + CHECK_ID / 2)).0</salary></Employee></Employees>"
HAD_ERRORS=0
ACTIVE=()
for t in $TARGETS; do
    service_of "$t"
    body=$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$HTTP/services/$SERVICE/employees/$CHECK_ID" || true)
    if [[ $body != "$EXPECTED"$'\n'200 ]]; then
        log "FAIL $t: GET /services/$SERVICE/employees/$CHECK_ID answered '${body//$'\n'/ status }', expected '$EXPECTED' with 200"
        HAD_ERRORS=1
        continue
    fi
    ACTIVE+=("$t")
done
((${#ACTIVE[@]})) || die "no target answered right; see above"

run_wrk() { # OUT SECONDS TARGET
    service_of "$3"
    BENCH_DS_PATH=/services/$SERVICE/employees/ BENCH_DS_ROWS=$ROWS \
        taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNECTIONS" -d"$2"s --timeout "$WRK_TIMEOUT" \
        -s "$BENCH_DIR/dataservices.lua" "http://127.0.0.1:$HTTP/" >"$1" 2>&1 || true
}

RUNS_TSV=$RUN/runs.tsv
: >"$RUNS_TSV"
for t in "${ACTIVE[@]}"; do
    log "warm-up $t (${WARMUP} s)"
    run_wrk "$RUN/warmup-$t.out" "$WARMUP" "$t"
done
# Conflux sizes its runtime to its CPU set (1 CPU: one current-thread runtime); sqlx runs each open
# SQLite connection on a thread of its own ("sqlx-sqlite-worker"): count them after the warm-up.
SQLITE_THREADS=0
for task in /proc/"$CONFLUX_PID"/task/*; do
    read -r comm <"$task/comm" || continue
    [[ $comm == sqlx-sqlite-wor* ]] && SQLITE_THREADS=$((SQLITE_THREADS + 1))
done
log "${#ACTIVE[@]} target(s) x $REPS run(s) of ${DURATION} s, $CONNECTIONS connections, ids 1..$ROWS"
for ((rep = 1; rep <= REPS; rep++)); do
    for ((k = 0; k < ${#ACTIVE[@]}; k++)); do
        # Rotate the order so that no target always runs first.
        t=${ACTIVE[$(((k + rep - 1) % ${#ACTIVE[@]}))]}
        out=$RUN/wrk-$t-$rep.out
        proc_ticks "$CONFLUX_PID"; c0=$TICKS
        pg_ticks; g0=$PG_TICKS
        children_ticks; w0=$CHILD_TICKS
        box_ticks; x0=$BOX_BUSY
        run_wrk "$out" "$DURATION" "$t"
        box_ticks; x1=$BOX_BUSY
        children_ticks; w1=$CHILD_TICKS
        pg_ticks; g1=$PG_TICKS
        proc_ticks "$CONFLUX_PID"; c1=$TICKS
        line=$(grep '^BENCH ' "$out" || true)
        if [[ ! $line =~ requests=([0-9]+)\ duration_us=([0-9]+) ]]; then
            log "FAIL $t #$rep: wrk printed no result: $(tail -n 3 "$out")"
            HAD_ERRORS=1
            continue
        fi
        requests=${BASH_REMATCH[1]} duration=${BASH_REMATCH[2]}
        [[ $line =~ p50_us=([0-9]+) ]] && p50=${BASH_REMATCH[1]}
        [[ $line =~ p99_us=([0-9]+) ]] && p99=${BASH_REMATCH[1]}
        [[ $line =~ err_connect=([0-9]+)\ err_read=([0-9]+)\ err_write=([0-9]+)\ err_status=([0-9]+)\ err_timeout=([0-9]+) ]]
        errs=$((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4] + BASH_REMATCH[5]))
        ((errs > 0)) && { log "  $t #$rep: $errs errors (see $out; --keep keeps it)"; HAD_ERRORS=1; }
        [[ $t == sqlite ]] && g1=$g0 # the PostgreSQL cluster idles meanwhile; its upkeep is not SQLite's
        # The share of the machine's busy CPU that was neither wrk, Conflux nor PostgreSQL: other jobs.
        own=$(((c1 - c0) + (g1 - g0) + (w1 - w0))) busy=$((x1 - x0)) foreign=0
        ((busy > own)) && foreign=$(((busy - own) * 100 / busy))
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rep" "$requests" "$duration" "$p50" "$p99" \
            "$((c1 - c0))" "$((g1 - g0))" "$((w1 - w0))" "$busy" "$foreign" "$errs" >>"$RUNS_TSV"
        log "  $t #$rep: $((requests * 1000000 / duration)) req/s, p50 $p50 us, p99 $p99 us, CPU ticks: Conflux $((c1 - c0)), PostgreSQL $((g1 - g0)), wrk $((w1 - w0)), machine $busy (foreign ${foreign}%), errors $errs"
    done
done

# --- report ---------------------------------------------------------------------------------------

CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
PEAK_RSS_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$CONFLUX_PID/status" 2>/dev/null || echo 0)
STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$OUT"
REPORT=$OUT/dataservices-$(date -u +%Y%m%dT%H%M%SZ).md
{
    echo "### Data services run of $STAMP ($( ((QUICK)) && echo quick || echo full))"
    echo
    echo "- Command: \`$COMMAND_LINE\` (Conflux binary \`${CONFLUX_BIN#"$REPO"/}\`)"
    echo "- Machine: \`nproc\` = $NCPU, $CPU_MODEL, kernel $(uname -r); $(wrk -v 2>&1 | head -n 1 | awk '{print "wrk", $2}'); $(sqlite3 --version | awk '{print "SQLite CLI", $1}')"
    echo "- wrk on cpu $WRK_CPUS (\`-t1 -c$CONNECTIONS --timeout $WRK_TIMEOUT\`, a random id of 1..$ROWS per request); Conflux and PostgreSQL on cpu $SERVER_CPUS (Conflux's runtime follows its CPU set; $SQLITE_THREADS SQLite connection threads after the warm-up)"
    echo "- Each point: median of $REPS run(s) of ${DURATION} s after ${WARMUP} s of warm-up per target, targets in rotating order;" \
        "foreign CPU: the share of the machine's busy CPU used by neither wrk, Conflux nor PostgreSQL (other jobs)"
    echo "- Conflux's peak RSS over the whole run: $((${PEAK_RSS_KB:-0} / 1024)) MiB"
    echo
    echo "| Target | req/s | p50 ms | p99 ms | Conflux CPU µs/req | PostgreSQL CPU µs/req | total CPU µs/req | foreign CPU % | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v tck="$CLK_TCK" '
        function median(list, n,    a, i, j, t) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        {
            t = $1; if (!(t in seen)) { seen[t] = 1; order[++n] = t }
            us = 1000000 / tck
            rps[t] = rps[t] " " $3 * 1000000 / $4
            p50[t] = p50[t] " " $5; p99[t] = p99[t] " " $6
            conflux[t] = conflux[t] " " ($3 ? $7 * us / $3 : 0)
            pg[t] = pg[t] " " ($3 ? $8 * us / $3 : 0)
            total[t] = total[t] " " ($3 ? ($7 + $8) * us / $3 : 0)
            foreign[t] = foreign[t] " " $11
            errs[t] += $12
        }
        END {
            for (i = 1; i <= n; i++) {
                t = order[i]
                printf "| %s | %.0f | %.2f | %.2f | %.1f | %s | %.1f | %.0f | %d |\n", t, median(rps[t]),
                    median(p50[t]) / 1000, median(p99[t]) / 1000, median(conflux[t]),
                    t == "postgres" ? sprintf("%.1f", median(pg[t])) : "(in Conflux)", median(total[t]),
                    median(foreign[t]), errs[t]
            }
        }' "$RUNS_TSV"
} >"$REPORT"
{
    printf 'target\trep\trequests\tduration_us\tp50_us\tp99_us\tconflux_ticks\tpostgres_ticks\twrk_ticks\tmachine_busy_ticks\tforeign_pct\terrors\n'
    cat "$RUNS_TSV"
} >"${REPORT%.md}.runs.tsv"
cat "$REPORT"
log "report: ${REPORT#"$REPO"/} (and .runs.tsv)"

if ((HAD_ERRORS)); then
    log "some runs had errors or wrong bodies (see above)"
    exit 4
fi
exit 0
