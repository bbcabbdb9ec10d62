# shellcheck shell=bash disable=SC2034 # sourced: the variables set here are read by the callers
# Shared pieces of the bench/ scripts (run.sh, callgrind.sh, memory.sh), sourced, never run: the
# temp dir and process bookkeeping, the backend content and nginx configs, the Conflux home with the
# bench APIs (pass-through, the MI idioms of issue 22, the mediation scenarios), process readings
# from /proc, and wrk. The caller sets BENCH_DIR, the port variables (bench_ports), the CPU sets
# (WRK_CPUS, BACKEND_CPUS, PROXY_CPUS), CONFLUX_BIN and WRK_TIMEOUT; functions report through
# global variables (PIDS, KB, TICKS, HTTP_STATUS, ...) so that probes need no fork.

CONFLUX_WRAP=() # a command the Conflux binary is started under (callgrind.sh: valgrind)

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ensure_tools() { # [COMMAND:PACKAGE ...]: install what is missing from Debian (the base set + these)
    local need=() extra
    command -v wrk >/dev/null || need+=(wrk)
    command -v nginx >/dev/null || need+=(nginx)
    [[ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]] || need+=(libnginx-mod-http-echo)
    command -v curl >/dev/null || need+=(curl)
    command -v openssl >/dev/null || need+=(openssl)
    command -v taskset >/dev/null || need+=(util-linux)
    for extra; do command -v "${extra%%:*}" >/dev/null || need+=("${extra#*:}"); done
    ((${#need[@]} == 0)) && return 0
    log "installing from Debian: ${need[*]}"
    [[ $(id -u) == 0 ]] || die "missing ${need[*]} and not root: install them with apt-get"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
        die "apt-get install ${need[*]} failed"
}

bench_ports() { # OFFSET PORT_BASE: Conflux's ports (MI's defaults + offset) and the 4 nginx ports
    OFFSET=$1
    CONFLUX_HTTP=$((8280 + OFFSET))
    CONFLUX_HTTPS=$((8243 + OFFSET))
    CONFLUX_PROBES=$((9191 + OFFSET))
    BACKEND_PORT=$(($2 + 1))
    BACKEND_TLS_PORT=$(($2 + 2))
    PROXY_PORT=$(($2 + 3))
    PROXY_TLS_PORT=$(($2 + 4))
}

check_ports_free() { # PORT...: die when one is taken
    local p
    for p; do
        if [[ -n $(ss -Htln "sport = :$p") ]]; then
            die "port $p is already in use (choose others with the port offset / base settings, see --help)"
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# Temp dir, process bookkeeping, cleanup

STARTED_PIDS=()

stop_pid() { # PID: TERM, wait up to 12 s (Conflux drains up to 10 s), then KILL
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 1200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep_ms 10
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid did not stop after SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${STARTED_PIDS[@]}"; do
        stop_pid "$pid"
    done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept $RUN"
    else
        rm -rf "$RUN"
    fi
    exit "$rc"
}
bench_init_run() { # PREFIX: RUN <- a fresh temp dir, removed on exit with every process started
    RUN=$(mktemp -d "/tmp/$1.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    mkfifo "$RUN/sleep.fifo"
    exec {SLEEP_FD}<>"$RUN/sleep.fifo"
}

sleep_ms() { # sleep without forking (keeps probes and bookkeeping cheap)
    read -r -t "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))" -u "$SLEEP_FD" _ || true
}

forget_pid() { # PID: remove from STARTED_PIDS after it was stopped
    local keep=() p
    for p in "${STARTED_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    STARTED_PIDS=("${keep[@]}")
}

now_us() { NOW_US=${EPOCHREALTIME/./}; }

# HTTP_STATUS <- status of GET PATH on 127.0.0.1:PORT ("" when nothing answers). No fork.
http_status() {
    local port=$1 path=$2 fd line
    HTTP_STATUS=""
    { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 0
    trap '' PIPE
    { printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&"$fd"; } 2>/dev/null || true
    if IFS= read -r -t 2 line <&"$fd"; then
        [[ $line =~ ^HTTP/1\.[01]\ ([0-9]{3}) ]] && HTTP_STATUS=${BASH_REMATCH[1]}
    fi
    trap - PIPE
    exec {fd}>&-
    return 0
}

# ---------------------------------------------------------------------------------------------
# Files: TLS, backend content, nginx configs, Conflux homes

# The MI idioms of issue 22, each an API of its own at /bench/NAME (see write_idiom_apis); nginx
# gets a proxy_pass location for each (nginx_idiom_locations), doing what the idiom does: it sets
# the header of the transport property idiom and, since 2026-12-07, writes the log idiom's line
# to two files (before that it logged nothing there; until 15:29 that day its line was a third as
# long as Conflux's, see log_format idiom_log in nginx-proxy.conf.in).
IDIOMS=(idiom-empty-seqs idiom-out-send idiom-call-respond idiom-log-headers idiom-transport-prop cbr-json-filter)

make_json_doc() { # BYTES FILE: a compact JSON order of exactly BYTES bytes with "kind": "a" (>= 200)
    local bytes=$1 doc i=0 item pad
    doc='{"kind":"a","id":"A-1001","customer":{"name":"Ada Lovelace","tier":"gold"},"items":['
    while :; do
        printf -v item '{"sku":"SKU-%06d","qty":%d,"price":1999}' "$i" "$((i % 9 + 1))"
        ((${#doc} + ${#item} + 1 + 20 < bytes)) || break
        ((i > 0)) && doc+=,
        doc+=$item
        i=$((i + 1))
    done
    doc+='],"note":"'
    pad=$((bytes - ${#doc} - 2))
    ((pad >= 0)) || die "make_json_doc: $bytes bytes is too small"
    doc+=$(printf '%*s' "$pad" '' | tr ' ' n)
    doc+='"}'
    printf '%s' "$doc" >"$2"
    [[ $(wc -c <"$2") == "$bytes" ]] || die "make_json_doc: $2 is not $bytes bytes"
}

make_content() { # TLS certificate, backend bodies, POST bodies (sets BODY_1K and the *_BYTES sizes)
    mkdir -p "$RUN/tls" "$RUN/www"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "$RUN/tls/key.pem" -out "$RUN/tls/cert.pem" 2>/dev/null || die "openssl could not make a certificate"
    head -c 76800 /dev/urandom | base64 -w 0 | head -c 102400 >"$RUN/www/100k.bin"
    BODY_1K=$(head -c 768 /dev/urandom | base64 -w 0 | head -c 1024)
    head -c 10240 /dev/zero | tr '\0' x >"$RUN/post-10k.bin"
    # The order document of the JSON transformation scenario (about 1 KiB), and the size of what the
    # BenchMediation API makes of it.
    {
        printf '{"id": "A-1001", "customer": {"name": "Ada Lovelace", "tier": "gold"}, "amount": 250.5, "items": ['
        for i in $(seq 1 12); do
            ((i > 1)) && printf ', '
            printf '{"sku": "SKU-%04d", "qty": %d, "price": 19.99}' "$i" "$i"
        done
        printf ']}'
    } >"$RUN/order.json"
    JSON_OUT_BYTES=$(printf '%s' '{"order": {"id": "A-1001", "customer": "Ada Lovelace", "total": 250.5}, "source": "conflux"}' | wc -c)
    # What the BenchMediation API's stylesheet makes of it (XML, written as JSON; its script makes the
    # same), and its own size.
    XSLT_OUT_BYTES=$(printf '%s' '{"order":{"id":"A-1001","customer":"Ada Lovelace","total":250.5,"items":12,"quantity":78}}' | wc -c)
    ORDER_BYTES=$(wc -c <"$RUN/order.json")
    # The content-based routing scenarios (cbr-json-filter-*) and their pass-through baseline POST
    # these: JSON of exactly 1 KiB and 100 KiB, routed on "kind".
    make_json_doc 1024 "$RUN/kind-1k.json"
    make_json_doc 102400 "$RUN/kind-100k.json"
}

render() { # TEMPLATE OUT: fill @NAME@ placeholders (and write the nginx proxy's idiom locations)
    nginx_idiom_locations >"$RUN/proxy-idioms.conf"
    sed -e "s|@RUN@|$RUN|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@BACKEND_TLS_PORT@|$BACKEND_TLS_PORT|g" \
        -e "s|@PROXY_PORT@|$PROXY_PORT|g" -e "s|@PROXY_TLS_PORT@|$PROXY_TLS_PORT|g" \
        -e "s|@WORKERS@|${PROXY_WORKERS:-1}|g" -e "s|@BODY_1K@|$BODY_1K|g" "$1" >"$2"
}

write_api() { # FILE NAME CONTEXT
    cat >"$1" <<EOF
<api xmlns="http://ws.apache.org/ns/synapse" name="$2" context="$3">
  <resource methods="GET POST" url-mapping="/*">
    <inSequence><send><endpoint><address uri="http://127.0.0.1:$BACKEND_PORT/"/></endpoint></send></inSequence>
  </resource>
</api>
EOF
}

write_mediation_api() { # FILE: the mediation scenarios (/bench/mediate/...; longest context wins)
    cat >"$1" <<EOF
<api xmlns="http://ws.apache.org/ns/synapse" name="BenchMediation" context="/bench/mediate">
  <!-- A JSON payloadFactory transformation of the request, sent to the echo backend. -->
  <resource methods="POST" uri-template="/json">
    <inSequence>
      <payloadFactory media-type="json">
        <format>{"order": {"id": "\$1", "customer": "\$2", "total": \$3}, "source": "conflux"}</format>
        <args>
          <arg evaluator="json" expression="\$.id"/>
          <arg evaluator="json" expression="\$.customer.name"/>
          <arg evaluator="json" expression="\$.amount"/>
        </args>
      </payloadFactory>
      <property name="REST_URL_POSTFIX" scope="axis2" action="remove"/>
      <send><endpoint><address uri="http://127.0.0.1:$BACKEND_PORT/echo"/></endpoint></send>
    </inSequence>
  </resource>
  <!-- An XSLT step (libxslt) on the JSON order, sent to the echo backend; and the same request
       passed through untouched, the baseline of that step. -->
  <resource methods="POST" uri-template="/xslt">
    <inSequence>
      <xslt key="benchOrderXslt"/>
      <property name="REST_URL_POSTFIX" scope="axis2" action="remove"/>
      <send><endpoint><address uri="http://127.0.0.1:$BACKEND_PORT/echo"/></endpoint></send>
    </inSequence>
  </resource>
  <!-- A script step (QuickJS) making the same document as the stylesheet, sent to the echo
       backend. -->
  <resource methods="POST" uri-template="/script">
    <inSequence>
      <script language="js"><![CDATA[
        var o = mc.getPayloadJSON();
        var quantity = 0;
        for (var i = 0; i < o.items.length; i++) { quantity += o.items[i].qty; }
        mc.setPayloadJSON({order: {id: o.id, customer: o.customer.name, total: o.amount,
                                   items: o.items.length, quantity: quantity}});
      ]]></script>
      <property name="REST_URL_POSTFIX" scope="axis2" action="remove"/>
      <send><endpoint><address uri="http://127.0.0.1:$BACKEND_PORT/echo"/></endpoint></send>
    </inSequence>
  </resource>
  <resource methods="POST" uri-template="/pass">
    <inSequence>
      <property name="REST_URL_POSTFIX" scope="axis2" action="remove"/>
      <send><endpoint><address uri="http://127.0.0.1:$BACKEND_PORT/echo"/></endpoint></send>
    </inSequence>
  </resource>
  <!-- A log + property chain in front of a pass-through send. -->
  <resource methods="GET" uri-template="/log">
    <inSequence>
      <property name="client" expression="\$trp:User-Agent"/>
      <property name="started" expression="get-property('SYSTEM_TIME')"/>
      <log level="custom">
        <property name="path" expression="\$ctx:REST_FULL_REQUEST_PATH"/>
        <property name="client" expression="\$ctx:client"/>
      </log>
      <property name="REST_URL_POSTFIX" scope="axis2" action="remove"/>
      <send><endpoint><address uri="http://127.0.0.1:$BACKEND_PORT/1k"/></endpoint></send>
    </inSequence>
  </resource>
</api>
EOF
}

# nginx's side of the idiom scenarios: the same plain proxy_pass as /bench/ (the directives of the
# server block are inherited), under each idiom's prefix. The transport-property idiom sets the
# same request header as Conflux's API (proxy_set_header replaces the inherited list, so the
# Connection reset is repeated).
nginx_idiom_locations() {
    local name
    for name in "${IDIOMS[@]}"; do
        case $name in
            idiom-transport-prop)
                printf 'location /bench/%s/ { proxy_pass http://bench_backend/; proxy_set_header Connection ""; proxy_set_header X-Bench-Idiom %s; }\n' "$name" "$name" ;;
            idiom-log-headers) # the same line to two files, as Conflux's console and wso2carbon.log
                printf 'location /bench/%s/ { proxy_pass http://bench_backend/; access_log %s/idiom-log-console.log idiom_log; access_log %s/idiom-log-file.log idiom_log; }\n' "$name" "$RUN" "$RUN" ;;
            *) printf 'location /bench/%s/ { proxy_pass http://bench_backend/; }\n' "$name" ;;
        esac
    done
}

# The idioms of issue 22 as MI users write them, each an API at /bench/NAME whose requests go to
# the backend path after the prefix (/bench/NAME/1k -> /1k), like the Bench API's. None of them
# reads or changes the message except cbr-json-filter, which reads one JSON field of the body.
write_idiom_apis() { # DIR: one file per idiom
    local dir=$1 name body address
    address="<endpoint><address uri=\"http://127.0.0.1:$BACKEND_PORT/\"/></endpoint>"
    for name in "${IDIOMS[@]}"; do
        case $name in
            idiom-empty-seqs) # Integration Studio's resource template: empty out and fault sequences
                body="<inSequence><send>$address</send></inSequence>
    <outSequence/>
    <faultSequence/>" ;;
            idiom-out-send) # the classic MI idiom: the reply goes back from the out-sequence
                body="<inSequence><send>$address</send></inSequence>
    <outSequence><send/></outSequence>" ;;
            idiom-call-respond) # the VS Code extension's default
                body="<inSequence><call>$address</call><respond/></inSequence>" ;;
            idiom-log-headers) # a simple-level log with a header property, then send
                body="<inSequence>
      <log level=\"simple\"><property name=\"host\" expression=\"\$trp:Host\"/></log>
      <send>$address</send>
    </inSequence>" ;;
            idiom-transport-prop) # a static transport header on the request, then send
                body="<inSequence>
      <property name=\"X-Bench-Idiom\" value=\"$name\" scope=\"transport\"/>
      <send>$address</send>
    </inSequence>" ;;
            cbr-json-filter) # content-based routing on a JSON field; anything else is dropped
                body="<inSequence>
      <filter source=\"json-eval(\$.kind)\" regex=\"a\">
        <then><send>$address</send></then>
        <else><drop/></else>
      </filter>
    </inSequence>" ;;
            *) die "write_idiom_apis: no API for '$name'" ;;
        esac
        cat >"$dir/Bench-$name.xml" <<EOF
<api xmlns="http://ws.apache.org/ns/synapse" name="Bench-$name" context="/bench/$name">
  <resource methods="GET POST" url-mapping="/*">
    $body
  </resource>
</api>
EOF
    done
}

# DIR N_APIS [TOML]: an MI-shaped home with the Bench API, the idiom APIs, and more pass-through APIs
# up to N; TOML (say, BENCH_CONFLUX_TOML: a [transport] table) is appended to its deployment.toml.
make_home() {
    local home=$1 n=$2 api i
    api=$home/repository/deployment/server/synapse-configs/default/api
    mkdir -p "$home/conf" "$api" "$home/repository/logs" "$home/repository/resources/security"
    cat >"$home/conf/deployment.toml" <<EOF
# Generated by bench/lib.sh.
[server]
hostname = "localhost"
offset = $OFFSET
EOF
    if [[ -n ${3:-} ]]; then printf '\n%s\n' "$3" >>"$home/conf/deployment.toml"; fi
    write_api "$api/Bench.xml" Bench /bench
    write_mediation_api "$api/BenchMediation.xml"
    write_idiom_apis "$api"
    mkdir -p "$api/../local-entries"
    cat >"$api/../local-entries/benchOrderXslt.xml" <<'EOF'
<localEntry xmlns="http://ws.apache.org/ns/synapse" key="benchOrderXslt">
  <xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
    <xsl:output method="xml" omit-xml-declaration="yes"/>
    <xsl:template match="/jsonObject">
      <order><id><xsl:value-of select="id"/></id><customer><xsl:value-of select="customer/name"/></customer><total><xsl:value-of select="amount"/></total><items><xsl:value-of select="count(items)"/></items><quantity><xsl:value-of select="sum(items/qty)"/></quantity></order>
    </xsl:template>
  </xsl:stylesheet>
</localEntry>
EOF
    for ((i = 1 + ${#IDIOMS[@]}; i < n; i++)); do
        write_api "$api/Api$(printf %04d "$i").xml" "Api$(printf %04d "$i")" "/api$(printf %04d "$i")"
    done
}

# ---------------------------------------------------------------------------------------------
# Processes: /proc readings without forks

# TICKS <- utime+stime (clock ticks) summed over PIDS
proc_ticks() {
    local pid line rest
    local -a f
    TICKS=0
    for pid; do
        [[ -r /proc/$pid/stat ]] || continue
        read -r line <"/proc/$pid/stat" || continue
        rest=${line##*) }
        read -r -a f <<<"$rest"
        TICKS=$((TICKS + f[11] + f[12]))
    done
}

# KB <- sum of the /proc/PID/status field NAME (VmRSS, VmHWM) over PIDS
proc_status_kb() {
    local name=$1 pid key value unit
    shift
    KB=0
    for pid; do
        [[ -r /proc/$pid/status ]] || continue
        while read -r key value unit; do
            [[ $key == "$name:" ]] && KB=$((KB + value))
        done <"/proc/$pid/status"
    done
    return 0
}

reset_peak_rss() { # PIDS: VmHWM := VmRSS (needs root; otherwise the peak is since start)
    local pid
    for pid; do { echo 5 >"/proc/$pid/clear_refs"; } 2>/dev/null || true; done
}

nginx_pids() { # PIDS <- nginx master PID and its workers
    local children=""
    [[ -r /proc/$1/task/$1/children ]] && read -r children <"/proc/$1/task/$1/children" || true
    PIDS="$1 $children"
}

BACKEND_PID="" BACKEND_PIDS="" PROXY_PID="" CONFLUX_PID="" BASELINE_PID=""

start_backend() {
    render "$BENCH_DIR/nginx-backend.conf.in" "$RUN/backend.conf"
    taskset -c "$BACKEND_CPUS" nginx -p "$RUN" -c "$RUN/backend.conf" >"$RUN/backend.out" 2>&1 &
    BACKEND_PID=$!
    STARTED_PIDS+=("$BACKEND_PID")
    wait_http "$BACKEND_PORT" /1k "$BACKEND_PID" backend
    nginx_pids "$BACKEND_PID"
    BACKEND_PIDS=$PIDS
}

start_nginx_proxy() {
    render "$BENCH_DIR/nginx-proxy.conf.in" "$RUN/proxy.conf"
    taskset -c "$PROXY_CPUS" nginx -p "$RUN" -c "$RUN/proxy.conf" >"$RUN/proxy.out" 2>&1 &
    PROXY_PID=$!
    STARTED_PIDS+=("$PROXY_PID")
    wait_http "$PROXY_PORT" /bench/1k "$PROXY_PID" "nginx proxy"
}

wait_http() { # PORT PATH PID NAME [SECONDS]: wait (<= 10 s) for a 200
    local i
    for ((i = 0; i < ${5:-10} * 100; i++)); do
        kill -0 "$3" 2>/dev/null || die "$4 exited at start; see $RUN/*.out and $RUN/*error.log (BENCH_KEEP=1 keeps them)"
        http_status "$1" "$2"
        [[ $HTTP_STATUS == 200 ]] && return 0
        sleep_ms 10
    done
    die "$4 did not answer 200 on 127.0.0.1:$1$2 within ${5:-10} s (last status '${HTTP_STATUS:-none}')"
}

start_conflux() { # HOME LOG: start in the background; CONFLUX_PID
    taskset -c "$PROXY_CPUS" "${CONFLUX_WRAP[@]}" "$CONFLUX_BIN" --home "$1" -DportOffset="$OFFSET" >"$2" 2>&1 &
    CONFLUX_PID=$!
    STARTED_PIDS+=("$CONFLUX_PID")
}

stop_conflux() {
    [[ -n $CONFLUX_PID ]] || return 0
    stop_pid "$CONFLUX_PID"
    forget_pid "$CONFLUX_PID"
    CONFLUX_PID=""
}

start_baseline() { # HOME LOG: BASELINE_BIN in the background on its own port offset; BASELINE_PID
    taskset -c "$PROXY_CPUS" "$BASELINE_BIN" --home "$1" -DportOffset="$BASELINE_OFFSET" >"$2" 2>&1 &
    BASELINE_PID=$!
    STARTED_PIDS+=("$BASELINE_PID")
}

stop_baseline() {
    [[ -n $BASELINE_PID ]] || return 0
    stop_pid "$BASELINE_PID"
    forget_pid "$BASELINE_PID"
    BASELINE_PID=""
}

worker_threads() { # WORKERS <- the threads of PID that serve the HTTP port: its per-CPU listener
    # threads (conflux-http-N, the HTTP/1 engine on several CPUs), else tokio's conflux-worker
    # threads (the hyper engine); 0 on one CPU (the main thread serves)
    local comm t listeners=0 workers=0
    for t in /proc/"$1"/task/*; do
        read -r comm <"$t/comm" || continue
        [[ $comm == conflux-http-* ]] && listeners=$((listeners + 1))
        [[ $comm == conflux-worker ]] && workers=$((workers + 1))
    done
    WORKERS=$((listeners > 0 ? listeners : workers))
    return 0
}

target_url() { # TARGET SCHEME PATH -> URL
    case $1/$2 in
        direct/http) URL=http://127.0.0.1:$BACKEND_PORT$3 ;;
        direct/https) URL=https://127.0.0.1:$BACKEND_TLS_PORT$3 ;;
        nginx/http) URL=http://127.0.0.1:$PROXY_PORT/bench$3 ;;
        nginx/https) URL=https://127.0.0.1:$PROXY_TLS_PORT/bench$3 ;;
        conflux/http) URL=http://127.0.0.1:$CONFLUX_HTTP/bench$3 ;;
        conflux/https) URL=https://127.0.0.1:$CONFLUX_HTTPS/bench$3 ;;
        baseline/http) URL=http://127.0.0.1:$BASELINE_HTTP/bench$3 ;;
        baseline/https) URL=https://127.0.0.1:$BASELINE_HTTPS/bench$3 ;;
    esac
}

check_body() { # TARGET SCENARIO-FIELDS...: one request through curl; body size and status must match
    local target=$1 path=$2 post=$3 scheme=$5 expect=$6 out sent="" args=(-s -k -o "$RUN/check.body" -w '%{http_code} %{size_download}')
    target_url "$target" "$scheme" "$path"
    case $post in
        json) args+=(--data-binary "@$RUN/order.json" -H 'Content-Type: application/json') ;;
        json-*) sent=$RUN/kind-${post#json-}.json ;;
        0) ;;
        *) sent=$RUN/post-10k.bin ;;
    esac
    if [[ $sent == *.json ]]; then
        args+=(--data-binary "@$sent" -H 'Content-Type: application/json')
    elif [[ -n $sent ]]; then
        args+=(--data-binary "@$sent" -H 'Content-Type: application/octet-stream')
    fi
    out=$(curl "${args[@]}" "$URL" || true)
    if [[ $out != "200 $expect" ]]; then
        log "FAIL $target $URL: expected '200 $expect' (status, body bytes), got '${out:-no answer}'"
        return 1
    fi
    if [[ -n $sent ]] && ! cmp -s "$RUN/check.body" "$sent"; then
        log "FAIL $target $URL: the echoed body differs from the POSTed one"
        return 1
    fi
    # The transport-property idiom must deliver its header to the backend (which echoes it here).
    if [[ $path == /idiom-transport-prop/* ]]; then
        target_url "$target" "$scheme" /idiom-transport-prop/x-bench-idiom
        out=$(curl -s -k "$URL" || true)
        if [[ $out != idiom-transport-prop ]]; then
            log "FAIL $target $URL: the backend saw X-Bench-Idiom '${out}', not 'idiom-transport-prop'"
            return 1
        fi
    fi
}

run_wrk() { # OUT CONNS SECONDS POST URL: one wrk run (report.lua's BENCH line in OUT)
    local post_file="" post_bytes=0
    case $4 in
        json) post_file=$RUN/order.json ;;
        json-*) post_file=$RUN/kind-${4#json-}.json ;;
        *) post_bytes=$4 ;;
    esac
    BENCH_POST_FILE=$post_file BENCH_POST_BYTES=$post_bytes taskset -c "$WRK_CPUS" wrk -t1 -c"$2" -d"$3"s --timeout "$WRK_TIMEOUT" \
        -s "$BENCH_DIR/report.lua" "$5" >"$1" 2>&1 || true
}

# Sets CONFLUX_BIN (default target/release/conflux; a given CONFLUX_BIN implies BUILD=0) and, when
# the conflux target is measured, builds it if BUILD=1 and checks it is there.
prepare_conflux_bin() {
    if [[ -n ${CONFLUX_BIN:-} ]]; then
        BUILD=0
    else
        CONFLUX_BIN=$REPO/target/release/conflux
    fi
    if [[ " $TARGETS " == *" conflux "* ]]; then
        if ((BUILD)); then
            log "cargo build --release -p conflux"
            (cd "$REPO" && cargo build --release -p conflux) || die "cargo build --release -p conflux failed"
        fi
        [[ -x $CONFLUX_BIN ]] || die "no Conflux binary at $CONFLUX_BIN (build it or set CONFLUX_BIN)"
    fi
}
