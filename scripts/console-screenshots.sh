#!/usr/bin/env bash
# Regenerates the console screenshots of the README (docs/console-<view>.png, 1280x800).
#
#   scripts/console-screenshots.sh
#
# Runs the console's browser tests (crates/conflux/tests/console_browser.rs: real headless
# Chromium through chromedriver, against the real binary on copies of the default home) with
# CONFLUX_CONSOLE_SCREENSHOTS=1, which makes each test write the pages it has just checked:
# login, overview, artifacts, endpoints, logs, traffic and fleet. Needs the Debian packages
# chromium and chromium-driver. CI=1 makes a missing browser fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromedriver >/dev/null; then
    echo "console-screenshots: chromedriver is missing (apt-get install -y chromium chromium-driver)" >&2
    exit 1
fi
CI=1 CONFLUX_CONSOLE_SCREENSHOTS=1 cargo test -p conflux --test console_browser
ls -l docs/console-*.png
