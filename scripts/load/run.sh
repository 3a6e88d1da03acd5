#!/usr/bin/env bash
# Load run on this machine, bounded in time (about 2 minutes with the defaults): builds the server and the load
# tool, starts the server on 127.0.0.1 with a throwaway SQLite store, measures start to ready, then
#  1. closed loop with wrk (C, one thread, a pre-encoded POST /v1/predict) for the three canvases of
#     internal/loadcanvas at 8/16/32/64/128 connections: answers/s, 200/503/429 shares, served p99;
#  2. the open-loop burst (vegeta): RATE/s, then 3×RATE/s, then RATE/s again, on the 280×280 canvas;
#  3. websocket predictions (gorilla client, open loop) on the same canvas;
#  4. the curve (connections → goodput, served p99, shed share) as a PNG.
#
#   scripts/load/run.sh                                  # table + burst + curve in $CURVE (default: a temp file)
#   CURVE=server/load-curve.png DURATION=5s scripts/load/run.sh
#   CANVASES="280x280-rgb-1digit" CONNS="8,32,128" RATE=2000 scripts/load/run.sh
#   WARMUP=4s: an unreported closed-loop run first (the drift monitor's start-up burst, pools, GC)
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5s}
BURST_DURATION=${BURST_DURATION:-5s}
RATE=${RATE:-1500}
CONNS=${CONNS:-8,16,32,64,128}
CANVASES=${CANVASES:-280x280-rgb-1digit 640x200-rgb-5digits 76x64-gray-1digit}
BURST_CANVAS=${BURST_CANVAS:-280x280-rgb-1digit}
WS_CONNS=${WS_CONNS:-32}
PORT=${PORT:-18090}
SERVER_FLAGS=${SERVER_FLAGS:-}
URL=http://127.0.0.1:$PORT

tmp=$(mktemp -d)
cleanup() {
  if [[ -n "${pid:-}" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
CURVE=${CURVE:-$tmp/load-curve.png}

if ! command -v wrk >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
  (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null 2>&1 || true
fi
command -v wrk >/dev/null 2>&1 || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

export GOFLAGS=${GOFLAGS:--mod=mod}
go build -o "$tmp/server" ./server/internal/testserver
go build -o "$tmp/load" ./scripts/load

start=$(date +%s%N)
# --rate 0: the load comes from one address, so the per-client limit would shed it all.
"$tmp/server" --addr "127.0.0.1:$PORT" --db "sqlite:$tmp/load.db" --data "$tmp" --rate 0 $SERVER_FLAGS \
  >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
"$tmp/load" -mode ready -url "$URL" >/dev/null
echo "start to ready: $(( ($(date +%s%N) - start) / 1000000 )) ms (process start, model load, store open, listen)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run; server flags: --rate 0 $SERVER_FLAGS"
echo
# Warm-up, not reported: the drift monitor takes its first ten seconds' worth of predictions whole (~0.8 ms of
# CPU each, then --monitor-rate a second), which would otherwise land on the first row's CPU per answer.
"$tmp/load" -mode closed -url "$URL" -canvas "${CANVASES%% *}" -conns-list 16 -duration "${WARMUP:-4s}" >/dev/null
echo "1. closed loop: wrk 1 thread, pre-encoded POST /v1/predict (raw PNG body), $DURATION per row"
for c in $CANVASES; do
  "$tmp/load" -mode closed -url "$URL" -canvas "$c" -conns-list "$CONNS" -duration "$DURATION" -tsv "$tmp/closed.tsv" |
    { if [[ $c == ${CANVASES%% *} ]]; then cat; else tail -n +2; fi; }
done
echo "   (served p99: 200 answers, from the server's latency histogram, interpolated between its buckets;"
echo "    >100ms: share of 200s above the 100 ms bucket edge, exact; wrk p99: all answers as wrk saw them)"
echo
echo "2. open-loop burst (vegeta), $BURST_CANVAS: $RATE/s, $((3 * RATE))/s, $RATE/s, $BURST_DURATION each"
"$tmp/load" -mode burst -url "$URL" -canvas "$BURST_CANVAS" -rate "$RATE" -duration "$BURST_DURATION" -conns 32
echo
echo "3. websocket, $WS_CONNS connections, $BURST_CANVAS as base64 JSON, $RATE/s open loop, $BURST_DURATION"
"$tmp/load" -mode ws -url "$URL" -canvas "$BURST_CANVAS" -rate "$RATE" -duration "$BURST_DURATION" -conns "$WS_CONNS"
echo
cp "$tmp/closed.tsv" "${CURVE%.png}.tsv"
"$tmp/load" -mode curve -tsv "$tmp/closed.tsv" -out "$CURVE" \
  -title "$(nproc) cores, wrk on the same machine, load avg $(cut -d' ' -f1 /proc/loadavg)"
echo "4. curve written to $CURVE (its table: ${CURVE%.png}.tsv)"
echo
echo "server-side view:"
curl -s "$URL/metrics" | grep -E '^digitpad_(batch_size_(sum|count)|rejections_total|prediction_log_(written|dropped)_total)' || true

# Hostile clients (issue 18): well-behaved clients' success rate and p99, alone and under attack.
scripts/load/hostile.sh
