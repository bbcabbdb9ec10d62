#!/bin/sh
# MI's launcher, for Conflux: forwards every argument to the conflux binary, so that MI's documented
# commands work unchanged (./micro-integrator.sh -DportOffset=3, ./micro-integrator.sh version).
#
# The binary is $CONFLUX_BIN if set, else bin/conflux inside this home, else the repository's
# target/release/conflux (after `cargo build --release`), else `conflux` on the PATH.
# The home is $CONFLUX_HOME if set, else the folder above this script (MI's CARBON_HOME rule).
set -eu
script_dir=$(cd "$(dirname "$0")" && pwd)
home=${CONFLUX_HOME:-$(dirname "$script_dir")}
if [ -n "${CONFLUX_BIN:-}" ]; then
  bin=$CONFLUX_BIN
elif [ -x "$script_dir/conflux" ]; then
  bin=$script_dir/conflux
elif [ -x "$home/../target/release/conflux" ]; then
  bin=$home/../target/release/conflux
else
  bin=conflux
fi
case "${1:-}" in
  version|-version|--version) exec "$bin" version ;;
esac
# exec: the server gets SIGTERM/SIGINT directly and its exit code is the script's.
exec "$bin" --home "$home" "$@"
