#!/usr/bin/env bash
# digitpad against its peer (issue 16): the same wrk closed-loop rounds against digitpad and against what a user
# might write instead (scripts/peer: Node.js cluster of 2 workers, onnxruntime-node 1.30, classic one-digit MNIST
# preprocessing, same model), row by row, both servers on 127.0.0.1. Prints each row, then the issue's
# side-by-side table (200 answers/s of each, digitpad / peer on right answers, 200 shares), and writes the rows
# as a TSV and their goodput as a PNG. The peer's npm packages must be installed first: make peer-deps (make
# load-peer does both). About 4 minutes with the defaults (4 canvases × 5 connection counts × 2 servers × 6 s).
# DURATION, CONNS, CANVASES, ROUNDS, WARMUP, MNIST_CHECK (digits each server must read, >= 95% right), PORT, PEER_PORT
# adjust it.
#
#   scripts/load/peer.sh                                  # table; TSV and PNG in $COMPARE (default: a temp file)
#   COMPARE=server/load-peer.png DURATION=5s scripts/load/peer.sh
#   CANVASES=280x280-rgb-1digit,76x64-gray-mnist CONNS=8,32,128 DURATION=2s scripts/load/peer.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5s}
CONNS=${CONNS:-8,16,32,64,128}
CANVASES=${CANVASES:-280x280-rgb-1digit,640x200-rgb-5digits,76x64-gray-1digit,76x64-gray-mnist}
PORT=${PORT:-18092}
PEER_PORT=${PEER_PORT:-18093}
MNIST_CHECK=${MNIST_CHECK:-200}
ROUNDS=${ROUNDS:-1} # rounds per row, alternating which server goes first; each keeps its best (issue 16: best clean rounds)
WARMUP=${WARMUP:-2s} # unreported wrk run on each server before each canvas (node compiles its hot code)
URL=http://127.0.0.1:$PORT
PEER_URL=http://127.0.0.1:$PEER_PORT

tmp=$(mktemp -d)
cleanup() {
  for p in ${pid:-} ${peer_pid:-}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
COMPARE=${COMPARE:-$tmp/load-peer.png}

command -v wrk >/dev/null 2>&1 || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v node >/dev/null 2>&1 || { echo "node is needed (Debian: nodejs)" >&2; exit 1; }
[[ -d scripts/peer/node_modules/onnxruntime-node ]] || { echo "the peer's packages are missing: make peer-deps" >&2; exit 1; }

export GOFLAGS=${GOFLAGS:--mod=mod}
go build -o "$tmp/server" ./server/internal/testserver
go build -o "$tmp/load" ./scripts/load

# --rate 0: the load comes from one address, so the per-client limit would shed it all.
"$tmp/server" --addr "127.0.0.1:$PORT" --db "sqlite:$tmp/load.db" --data "$tmp" --rate 0 \
  >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
node scripts/peer/server.js --port "$PEER_PORT" >"$tmp/peer.out" 2>"$tmp/peer.err" &
peer_pid=$!
"$tmp/load" -mode ready -url "$URL" >/dev/null
for _ in $(seq 300); do grep -q '^peer ready' "$tmp/peer.out" && break; sleep 0.1; done
grep -q '^peer ready' "$tmp/peer.out" || { echo "the peer did not start:" >&2; cat "$tmp/peer.err" >&2; exit 1; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
echo "digitpad: server/internal/testserver --rate 0 on $URL; peer: node $(node --version) scripts/peer/server.js on $PEER_URL"
echo
echo "0. both read MNIST test digits (76x64 grey canvases, the 28x28 frame drawn 2x):"
"$tmp/load" -mode mnist -url "$PEER_URL" -n "$MNIST_CHECK" -min 0.95
"$tmp/load" -mode mnist -url "$URL" -n "$MNIST_CHECK" -min 0.95
echo
echo "1. closed loop: wrk 1 thread, pre-encoded POST /v1/predict (raw PNG body), $DURATION per run, digitpad and peer"
echo "   alternating, best of $ROUNDS round(s) each"
"$tmp/load" -mode compare -url "$URL" -peer-url "$PEER_URL" -pid "$peer_pid" -canvases "$CANVASES" \
  -conns-list "$CONNS" -duration "$DURATION" -warmup "$WARMUP" -rounds "$ROUNDS" -tsv "${COMPARE%.png}.tsv" -out "$COMPARE" \
  -title "digitpad vs peer (Node + onnxruntime-node), $(nproc) cores, wrk on the same machine, load avg $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "2. written: $COMPARE and its table ${COMPARE%.png}.tsv"
