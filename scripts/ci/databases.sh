#!/usr/bin/env bash
# PostgreSQL and MariaDB for the data service tests (issue 16), in a private directory under
# target/ on free loopback ports, each with a `conflux` user (password `conflux`) and database.
#
#   bash scripts/ci/databases.sh start   # installs the Debian packages if missing, starts both,
#                                        # prints `export CONFLUX_TEST_POSTGRES_URL=...` lines
#   eval "$(bash scripts/ci/databases.sh env)"
#   bash scripts/ci/databases.sh stop    # stops both by PID and removes the directory
#
# The tests do not need this script: without the two variables a test binary starts private
# servers itself (crates/dataservices/src/db/testing.rs) when the binaries are installed. The
# script is for running the suite against long-lived servers, or other checkouts, by hand.
# PostgreSQL refuses to run as root: as root it runs as the `postgres` user the package creates.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR="$PWD/target/ci-databases"
ENV_FILE="$DIR/env"
START_TIMEOUT_S=60

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || { echo "PostgreSQL binaries not found under /usr/lib/postgresql" >&2; return 1; }
  echo "$d"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

install_if_missing() {
  local need=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    apt-get update -qq
    # policy-rc.d on CI machines keeps the packages' own services from starting.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

wait_for() { # what, command...
  local what=$1; shift
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "$what did not start within ${START_TIMEOUT_S}s" >&2; return 1; }
    sleep 0.2
  done
}

start_postgres() {
  local bin port as=() d="$DIR/pg"
  bin=$(pg_bin)
  port=$(free_port)
  mkdir -p "$d"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$d"
    as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  fi
  "${as[@]}" "$bin/initdb" -D "$d/data" -U postgres -E UTF8 --no-sync \
    --auth-local=trust --auth-host=scram-sha-256 >"$d/init.log" 2>&1
  # setpriv execs, so $! is the postmaster's PID.
  "${as[@]}" "$bin/postgres" -D "$d/data" -p "$port" -k "$d" -c listen_addresses=127.0.0.1 \
    -c fsync=off -c synchronous_commit=off -c max_connections=200 >"$d/server.log" 2>&1 &
  echo $! >"$DIR/postgres.pid"
  wait_for PostgreSQL "$bin/psql" -h "$d" -p "$port" -U postgres -d postgres -c 'SELECT 1'
  "$bin/psql" -h "$d" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE conflux LOGIN PASSWORD 'conflux'" -c "CREATE DATABASE conflux OWNER conflux"
  echo "export CONFLUX_TEST_POSTGRES_URL='jdbc:postgresql://127.0.0.1:$port/conflux?user=conflux&password=conflux'" >>"$ENV_FILE"
}

start_mariadb() {
  local port as_root=() d="$DIR/mariadb"
  port=$(free_port)
  mkdir -p "$d"
  [ "$(id -u)" = 0 ] && as_root=(--user=root)
  mariadb-install-db --no-defaults --datadir="$d/data" "${as_root[@]}" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    --innodb-log-file-size=4M >"$d/init.log" 2>&1
  mariadbd --no-defaults --datadir="$d/data" "${as_root[@]}" --port="$port" \
    --bind-address=127.0.0.1 --socket="$d/mariadb.sock" --pid-file="$d/mariadb.pid" \
    --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=32M --innodb-log-file-size=4M \
    --max-connections=200 >"$d/server.log" 2>&1 &
  echo $! >"$DIR/mariadb.pid"
  wait_for MariaDB mariadb --no-defaults --socket="$d/mariadb.sock" -u root -e 'SELECT 1'
  mariadb --no-defaults --socket="$d/mariadb.sock" -u root -e \
    "CREATE USER 'conflux'@'%' IDENTIFIED BY 'conflux'; CREATE DATABASE conflux CHARACTER SET utf8mb4; GRANT ALL ON conflux.* TO 'conflux'@'%';"
  echo "export CONFLUX_TEST_MARIADB_URL='jdbc:mariadb://127.0.0.1:$port/conflux?user=conflux&password=conflux'" >>"$ENV_FILE"
}

stop_one() { # pid-file signal
  local pidfile=$1 sig=$2 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$sig" "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$pidfile"
}

stop() {
  # PostgreSQL: SIGINT is its fast shutdown; MariaDB: SIGTERM.
  stop_one "$DIR/postgres.pid" INT
  stop_one "$DIR/mariadb.pid" TERM
  rm -rf "$DIR"
}

case "${1:-}" in
  start)
    [ ! -f "$DIR/postgres.pid" ] && [ ! -f "$DIR/mariadb.pid" ] || stop
    install_if_missing
    rm -rf "$DIR"
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    : >"$ENV_FILE"
    start_postgres
    start_mariadb
    cat "$ENV_FILE"
    ;;
  stop) stop ;;
  env) cat "$ENV_FILE" ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
