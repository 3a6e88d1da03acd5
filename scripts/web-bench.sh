#!/usr/bin/env bash
# Web pad speed in headless Chromium: download size, load to first recognition (cold and warm), and the time to
# recognise a 5-digit code inside Go, inside the worker and as a page round trip. Prints numbers; asserts none.
#   scripts/web-bench.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
make web web-deps >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; timings scale with it)"
node web/e2e/bench.mjs "${1:-30}"
