#!/usr/bin/env bash
# Proves that a real Prometheus server scrapes Conflux's /metric-service/metrics.
#
#   scripts/prometheus-scrape.sh [path/to/conflux]
#
# Starts Conflux on a temporary home with one API, sends it requests, lints the exposition with
# `promtool check metrics`, starts `prometheus` (Debian package `prometheus`) with a 1 s scrape of
# the internal HTTP port, and waits (at most 60 s) until Prometheus' own query API reports the
# target up and the API's request counter at the number of requests sent. Everything it starts
# listens on 127.0.0.1 and is stopped on exit. Exits 0 on success, 1 on failure, 0 with "skipped"
# when prometheus/promtool are not installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  echo "skipped: prometheus/promtool not installed (apt-get install prometheus)"
  exit 0
fi
BIN=${1:-target/debug/conflux}
[ -x "$BIN" ] || cargo build -q -p conflux
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A home whose whole port plan is free: pick an offset from a free port near 20000.
HOME_DIR="$WORK/home"
mkdir -p "$HOME_DIR/conf" "$HOME_DIR/repository/deployment/server/synapse-configs/default/api"
printf '[server]\nhostname = "localhost"\n[transport.http]\nlistener.bind_address = "127.0.0.1"\nlistener.secured_bind_address = "127.0.0.1"\n' > "$HOME_DIR/conf/deployment.toml"
cat > "$HOME_DIR/repository/deployment/server/synapse-configs/default/api/HelloApi.xml" <<'XML'
<api xmlns="http://ws.apache.org/ns/synapse" name="HelloApi" context="/hello">
    <resource methods="GET" url-mapping="/*">
        <inSequence>
            <payloadFactory media-type="json"><format>{"hello": "world"}</format><args/></payloadFactory>
            <respond/>
        </inSequence>
    </resource>
</api>
XML
OFFSET=$(( $(free_port) % 20000 + 2000 ))
"$BIN" --home "$HOME_DIR" -DportOffset=$OFFSET > "$WORK/conflux.log" 2>&1 &
PIDS+=($!)
HTTP=$((8280 + OFFSET)); INTERNAL=$((9191 + OFFSET))
for _ in $(seq 1 150); do
  grep -q "Conflux started" "$WORK/conflux.log" && break
  sleep 0.2
done
grep -q "Conflux started" "$WORK/conflux.log" || { echo "FAIL: conflux did not start"; cat "$WORK/conflux.log"; exit 1; }

SENT=5
for _ in $(seq 1 $SENT); do curl -fsS "http://127.0.0.1:$HTTP/hello/x" >/dev/null; done
curl -fsS "http://127.0.0.1:$INTERNAL/metric-service/metrics" > "$WORK/metrics.txt"
# promtool lints the exposition (it prints naming advice but fails only on parse errors).
promtool check metrics < "$WORK/metrics.txt" || { echo "FAIL: promtool rejected the exposition"; exit 1; }

PROM_PORT=$(free_port)
cat > "$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: conflux
    metrics_path: /metric-service/metrics
    static_configs:
      - targets: ["127.0.0.1:$INTERNAL"]
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" > "$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

query() { curl -fsS --get "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null || true; }
for _ in $(seq 1 60); do
  UP=$(query 'up{job="conflux"}')
  COUNT=$(query 'wso2_integration_api_request_count_total{service_name="HelloApi",service_type="api"}')
  if echo "$UP" | grep -q '"value":\[[0-9.]*,"1"\]' && echo "$COUNT" | grep -q "\"value\":\[[0-9.]*,\"$SENT\"\]"; then
    echo "ok: Prometheus scraped Conflux: up=1, wso2_integration_api_request_count_total{service_name=\"HelloApi\"}=$SENT"
    exit 0
  fi
  sleep 1
done
echo "FAIL: Prometheus did not report the expected series"
echo "up: $UP"; echo "count: $COUNT"
tail -20 "$WORK/prometheus.log"
exit 1
