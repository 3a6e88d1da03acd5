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

echo "server-side view:"
curl -s "$URL/metrics" | grep -E '^digitpad_(batch_size_(sum|count)|rejections_total|prediction_log_(written|dropped)_total)' || true
