#!/usr/bin/env bash
# Load run on this machine, bounded in time (about 1 minute): builds the server and the load tool, starts the
# server on 127.0.0.1 with a throwaway SQLite store, measures start to ready, then drives single-image HTTP
# predictions (vegeta), websocket predictions (gorilla) and a 3× burst, and stops the server.
#
#   scripts/load/run.sh                 # defaults: 5000/s for 10 s each, one-digit 64-px images
#   RATE=2000 DURATION=5s HEIGHT=160 DIGITS=5 STROKES=true scripts/load/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
RATE=${RATE:-5000}
DURATION=${DURATION:-10s}
DIGITS=${DIGITS:-1}
HEIGHT=${HEIGHT:-64}
CONNS=${CONNS:-32}
STROKES=${STROKES:-false}
PORT=${PORT:-18090}
SERVER_FLAGS=${SERVER_FLAGS:-}
URL=http://127.0.0.1:$PORT

tmp=$(mktemp -d)
cleanup() {
  if [[ -n "${pid:-}" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

export GOFLAGS=${GOFLAGS:--mod=mod}
go build -o "$tmp/server" ./server/internal/testserver
go build -o "$tmp/load" ./scripts/load

common=(-url "$URL" -rate "$RATE" -duration "$DURATION" -digits "$DIGITS" -height "$HEIGHT" -strokes="$STROKES")
start=$(date +%s%N)
# --rate 0: the load comes from one IP, so the per-client limit would shed it all.
"$tmp/server" --addr "127.0.0.1:$PORT" --db "sqlite:$tmp/load.db" --data "$tmp" --rate 0 $SERVER_FLAGS \
  >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
"$tmp/load" -mode ready -url "$URL" >/dev/null
echo "start to ready: $(( ($(date +%s%N) - start) / 1000000 )) ms (process start, model load, store open, listen)"
echo "canvas: $DIGITS digit(s), $HEIGHT px high, strokes=$STROKES; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$tmp/load" -mode http -conns "$CONNS" "${common[@]}"
sleep 2
"$tmp/load" -mode ws -conns "$CONNS" "${common[@]}"
sleep 2
"$tmp/load" -mode burst -conns "$CONNS" "${common[@]}"

# Closed loop with a C load generator (wrk, one thread, WRK_CONNS connections): how many requests/s the server
# completes when the generator costs far less CPU than vegeta's ~80 µs per request (both share the 2 cores).
if ! command -v wrk >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
  (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null 2>&1 || true
fi
if command -v wrk >/dev/null 2>&1; then
  sleep 2
  "$tmp/load" -mode png -digits "$DIGITS" -height "$HEIGHT" -out "$tmp/payload.png"
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "image/png"\nlocal f = io.open("%s", "rb")\nwrk.body = f:read("*a")\nf:close()\n' \
    "$tmp/payload.png" >"$tmp/post.lua"
  for c in ${WRK_CONNS:-8 16}; do
    echo "closed loop: wrk, 1 thread, $c connections, $DURATION:"
    wrk -t1 -c"$c" -d"$DURATION" --latency -s "$tmp/post.lua" "$URL/v1/predict" |
      grep -E "Requests/sec|Non-2xx|^ +(50|90|99)%" | sed 's/^ */         /'
  done
else
  echo "closed loop: skipped (wrk not installed: apt-get install wrk)"
fi

echo "server-side view:"
curl -s "$URL/metrics" | grep -E '^digitpad_(batch_size_(sum|count)|rejections_total|prediction_log_(written|dropped)_total)' || true

# Hostile clients (issue 18): well-behaved clients' success rate and p99, alone and under attack.
scripts/load/hostile.sh
