#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (issue 20): HTTP/1 request framing, the XML artifact
# loader, deployment.toml, XPath, JSONPath, Synapse expressions, Management API JWTs, Jolokia
# requests and CApp zips.
#
#   scripts/fuzz.sh --smoke              every target for 10 s, two at a time, built without
#                                        optimisation (CI: the build takes half the time, and the
#                                        debug assertions, overflow checks included, are on)
#   scripts/fuzz.sh --seconds 600 [T..]  the named targets (default all) for 600 s each, one at
#                                        a time (--jobs N: N at a time; --dev: unoptimised)
#
# Needs the nightly toolchain and cargo-fuzz (installed here with `cargo install cargo-fuzz
# --locked` when missing); without nightly it says so and exits 0, so CI runs without it. Seeds:
# fuzz/seeds/<target>/ (committed) plus, when present, the shared MI corpus (CONFLUX_CORPUS,
# default ../shared/corpus): artifacts, deployment.toml files, CApps, and the XPath, JSONPath and
# ${...} expressions found in the artifacts. The working corpus is fuzz/corpus/<target>/ (not
# committed). Prints one line per target: executions, wall and CPU seconds, and the verdict; exits
# 1 when a target found a crash, a leak or a timeout (the input is in fuzz/artifacts/<target>/).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

ALL_TARGETS=(http1_framing http1_engine artifact_xml config_toml xpath jsonpath synapse_expr jwt_verify
  jolokia_request capp_zip)
seconds=20
jobs=1
profile=release
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) seconds=10; jobs=2; profile=debug ;;
    --dev) profile=debug ;;
    --jobs) jobs="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --seconds=*) seconds="${1#--seconds=}" ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: the nightly toolchain is not installed; skipping the fuzz targets" \
    "(rustup toolchain install nightly)."
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is not installed; installing it (cargo install cargo-fuzz --locked)."
  if ! cargo install cargo-fuzz --locked; then
    echo "fuzz.sh: cannot install cargo-fuzz; skipping the fuzz targets."
    exit 0
  fi
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_FUZZ:-$repo/fuzz/target}"
shared="${CONFLUX_CORPUS:-$repo/../shared/corpus}"
cd "$repo/fuzz"

# One seed file per distinct line of stdin, named by its hash.
seed_lines() {
  local dir="$1" line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    printf '%s' "$line" >"$dir/shared-$(printf '%s' "$line" | sha1sum | cut -c1-16)"
  done
}

# XML attribute values as the parser sees them.
unescape_xml() {
  sed -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'
}

# Attribute values of xpath=, expression= and source= in the artifacts.
expression_attributes() {
  grep -rhoE '(xpath|expression|source|path)="[^"]*"' "$shared/synapse" 2>/dev/null \
    | sed -E 's/^[a-z]+="(.*)"$/\1/' | unescape_xml | sort -u || true
}

prepare_corpus() {
  local target="$1" dir="corpus/$1" selector file
  mkdir -p "$dir"
  if [ -d "seeds/$target" ]; then
    cp -f "seeds/$target"/* "$dir"/ 2>/dev/null || true
  fi
  [ -d "$shared" ] || return 0
  case "$target" in
    artifact_xml)
      # The first byte picks the folder label; see fuzz_targets/artifact_xml.rs (LABELS).
      selector=0
      for kind in api proxy-services endpoints sequences local-entries templates \
        inbound-endpoints; do
        for file in "$shared/synapse/$kind"/*.xml; do
          [ -f "$file" ] || continue
          { printf "\\x$(printf '%02x' "$selector")"; cat "$file"; } \
            >"$dir/shared-$kind-$(basename "$file")"
        done
        selector=$((selector + 1))
      done
      ;;
    config_toml)
      for file in "$shared"/deployment-toml/*.toml "$shared"/mi-default-conf/*.toml; do
        [ -f "$file" ] && cp -f "$file" "$dir/shared-$(basename "$file")"
      done
      ;;
    capp_zip)
      for file in "$shared"/car/*.car; do
        [ -f "$file" ] && cp -f "$file" "$dir/shared-$(basename "$file")"
      done
      ;;
    xpath)
      expression_attributes | grep -vE '^(json-eval\(|\$\.|\$\{|\{\$)' | seed_lines "$dir"
      ;;
    jsonpath)
      expression_attributes | grep -E '^(json-eval\(|\$\.|\$\[)' | seed_lines "$dir"
      ;;
    synapse_expr)
      grep -rhoE '\$\{[^}"]*\}' "$shared/synapse" 2>/dev/null \
        | sed -E 's/^\$\{(.*)\}$/\1/' | unescape_xml | sort -u | seed_lines "$dir" || true
      ;;
  esac
}

echo "fuzz.sh: building the targets ($(cargo +nightly --version))"
if [ "$profile" = debug ]; then
  nice -n 10 cargo +nightly fuzz build --dev --fuzz-dir .
else
  nice -n 10 cargo +nightly fuzz build -O --fuzz-dir .
fi
# The targets run from a snapshot of the binaries just built, so that edits made to the tree while
# they run do not trigger a rebuild (what `cargo fuzz run` would do) or change the code under test.
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
snapshot="$CARGO_TARGET_DIR/snapshot"
mkdir -p "$snapshot"
for target in "${targets[@]}"; do
  cp -f "$CARGO_TARGET_DIR/$host/$profile/$target" "$snapshot/$target"
done

# One target's run; its summary line goes to logs/<target>.summary, "failed" to
# logs/<target>.failed when it found something.
run_target() {
  local target=$1 log timefile status user system runs wall cpu coverage corpus_size slowest verdict
  log="logs/$target.log"
  timefile=$(mktemp)
  status=0
  TIMEFORMAT='%U %S'
  { time ASAN_OPTIONS="detect_odr_violation=0" nice -n 10 "$snapshot/$target" "corpus/$target" \
      -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="artifacts/$target/" >"$log" 2>&1; } 2>"$timefile" || status=$?
  read -r user system <"$timefile" || true
  rm -f "$timefile"
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}' | tail -1)
  wall=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | awk '{print $5}' | tail -1)
  cpu=$(awk -v u="${user:-0}" -v s="${system:-0}" 'BEGIN { printf "%.0f", u + s }')
  coverage=$(grep -oE 'DONE +cov: [0-9]+' "$log" | awk '{print $3}' | tail -1)
  corpus_size=$(find "corpus/$target" -type f | wc -l)
  slowest=$(grep -oE 'slowest_unit_time_sec: *[0-9]+' "$log" | awk '{print $2}' | tail -1)
  rm -f "logs/$target.failed"
  if [ "$status" -eq 0 ] && [ "${slowest:-0}" -ge 10 ]; then
    # libFuzzer keeps going past slow inputs (under -timeout); one taking seconds is a DoS finding.
    verdict="ok, but one input took ${slowest} s (fuzz/artifacts/$target/slow-unit-*)"
  elif [ "$status" -eq 0 ]; then
    verdict="ok"
  else
    verdict="FAILED (exit $status; see fuzz/$log and fuzz/artifacts/$target/)"
    echo failed >"logs/$target.failed"
    grep -E '^(==[0-9]+==ERROR|thread .* panicked|SUMMARY|Test unit written)' "$log" | head -5 || true
  fi
  printf '%-16s executions %-10s wall %4ss  cpu %4ss  edges %5s  corpus %5s  %s\n' \
    "$target" "${runs:-?}" "${wall:-?}" "$cpu" "${coverage:-?}" "$corpus_size" "$verdict" \
    | tee "logs/$target.summary"
}

mkdir -p logs
running=0
for target in "${targets[@]}"; do
  prepare_corpus "$target"
  mkdir -p "artifacts/$target"
  run_target "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
summary=()
for target in "${targets[@]}"; do
  summary+=("$(cat "logs/$target.summary" 2>/dev/null || echo "$target no summary (the run did not finish)")")
  if [ -f "logs/$target.failed" ] || [ ! -f "logs/$target.summary" ]; then
    failed=1
  fi
done

echo
echo "fuzz.sh: $(date -u +%Y-%m-%d) ${seconds}s per target"
printf '%s\n' "${summary[@]}"
exit "$failed"
