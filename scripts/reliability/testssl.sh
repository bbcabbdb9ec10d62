#!/usr/bin/env bash
# TLS scan of a running Conflux (issue 20, reliability.md §6): starts the binary on a temporary home
# (its self-signed keystore generated at start-up), runs testssl.sh (Debian package `testssl.sh`,
# binary `testssl`) against the HTTPS pass-through port and the Management API port on loopback,
# and prints every finding of severity MEDIUM or above. Findings that only say the certificate is
# self-signed (no chain of trust, no CRL/OCSP/CT/CAA, which a generated certificate cannot have)
# are listed separately as expected. Exits 1 when any other MEDIUM+ finding remains.
#
#   scripts/reliability/testssl.sh            build target/debug/conflux if needed, scan both ports
#   CONFLUX_BIN=target/release/conflux scripts/reliability/testssl.sh
#
# Needs testssl (apt-get install testssl.sh) and jq; without testssl it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

if ! command -v testssl >/dev/null; then
  echo "testssl.sh: testssl is not installed (apt-get install testssl.sh); skipping the TLS scan."
  exit 0
fi
command -v jq >/dev/null || { echo "testssl.sh: jq is required (apt-get install jq)" >&2; exit 2; }

bin="${CONFLUX_BIN:-$repo/target/debug/conflux}"
if [ ! -x "$bin" ]; then
  cargo build -p conflux
  bin="$repo/target/debug/conflux"
fi

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port offset whose HTTPS (8243) and management (9154) ports are free.
offset=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 20000))
  if ! port_in_use $((8243 + candidate)) && ! port_in_use $((9154 + candidate)) \
    && ! port_in_use $((8280 + candidate)) && ! port_in_use $((9191 + candidate)); then
    offset=$candidate
    break
  fi
done
[ -n "$offset" ] || { echo "testssl.sh: no free port offset found" >&2; exit 2; }

mkdir -p "$work/home/conf"
printf '[server]\nhostname = "localhost"\n' >"$work/home/conf/deployment.toml"
: >"$work/conflux.log"
"$bin" --home "$work/home" "-DportOffset=$offset" >"$work/conflux.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  grep -q "Conflux started in" "$work/conflux.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/conflux.log"; echo "conflux exited" >&2; exit 2; }
  sleep 0.1
done
grep -q "Conflux started in" "$work/conflux.log" || { cat "$work/conflux.log"; exit 2; }

# testssl finding ids that only restate that the generated certificate is self-signed: no chain to
# a trusted root, and so no CA to publish revocation (CRL, OCSP), CT logs or CAA records for it.
expected='^(cert_chain_of_trust|cert_trust|cert_revocation|cert_caIssuers|cert_crlDistributionPoints|cert_ocspURL|OCSP_stapling|cert_mustStapleExtension|certificate_transparency|DNS_CAArecord)$'
# Findings about the HTTP response to `GET /`, not about TLS: `security_headers` is MEDIUM when
# the answer has none of X-Frame-Options, CSP and the like. The pass-through port relays what the
# API or backend sends and, like MI, adds none; the Management API's 404 for `/` has no body.
http_level='^(security_headers)$'

status=0
for name in https:8243 management:9154; do
  label=${name%%:*}
  port=$(( ${name##*:} + offset ))
  json="$work/$label.json"
  echo "== testssl $(testssl --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1) on the $label port 127.0.0.1:$port"
  start=$(date +%s)
  testssl --quiet --color 0 --warnings off --nodns min --openssl-timeout 10 \
    --jsonfile "$json" "127.0.0.1:$port" >"$work/$label.txt" 2>&1 || true
  echo "   ran in $(( $(date +%s) - start )) s"
  if [ ! -s "$json" ]; then
    cat "$work/$label.txt"
    echo "testssl produced no JSON for $label" >&2
    status=1
    continue
  fi
  # Protocols, cipher order and negotiated suites, for the record.
  jq -r '.[] | select(.id | test("^(SSLv2|SSLv3|TLS1|TLS1_1|TLS1_2|TLS1_3|cipher_order|cipherorder_TLSv1_2|cipherorder_TLSv1_3|FS|cert_validityPeriod|cert_keySize)$")) | "   \(.id): \(.finding)"' "$json"
  medium='.[] | select(.severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL")'
  echo "   expected for a self-signed certificate (MEDIUM and above):"
  jq -r "$medium | select(.id | test(\"$expected\")) | \"     \(.severity) \(.id): \(.finding)\"" "$json"
  echo "   HTTP-level, not TLS (MEDIUM and above):"
  jq -r "$medium | select(.id | test(\"$http_level\")) | \"     \(.severity) \(.id): \(.finding)\"" "$json"
  unexpected=$(jq -r "$medium | select(.id | test(\"$expected\") or test(\"$http_level\") | not) | \"     \(.severity) \(.id): \(.finding)\"" "$json")
  echo "   LOW and WARN (scan notes), for the record:"
  jq -r '.[] | select(.severity == "LOW" or .severity == "WARN") | "     \(.severity) \(.id): \(.finding)"' "$json"
  counts=$(jq -r '[.[] | .severity] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$json")
  echo "   severities: $counts"
  if [ -n "$unexpected" ]; then
    echo "   UNEXPECTED findings (MEDIUM and above):"
    echo "$unexpected"
    status=1
  else
    echo "   no unexpected MEDIUM, HIGH or CRITICAL finding"
  fi
done
exit "$status"
