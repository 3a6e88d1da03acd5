#!/usr/bin/env bash
# Hostile-client phase of `make load` (issue 18): starts the server on 127.0.0.1 with its default limits (512 MB
# memory bound, connection cap, decode budget) and a throwaway SQLite store, then runs scripts/load/hostile —
# well-behaved clients alone, then under attack — and stops the server. ~25 s with the default DURATION.
#   scripts/load/hostile.sh            # HOSTILE_DURATION=10s per phase, 4 well-behaved clients; attackers connect
#                                      # from 127.0.0.2, i.e. as another client (fair admission shares slot time
#                                      # between client identities)
#   HOSTILE_ATTACKER_IP= scripts/load/hostile.sh   # attackers on the good clients' own address (one identity:
#                                      # first come first served between them, the degenerate case)
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${HOSTILE_DURATION:-10s}
GOOD=${HOSTILE_GOOD:-4}
PORT=${HOSTILE_PORT:-18091}
URL=http://127.0.0.1:$PORT

tmp=$(mktemp -d)
cleanup() {
  if [[ -n "${pid:-}" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

export GOFLAGS=${GOFLAGS:--mod=mod}
go build -o "$tmp/server" ./server/internal/testserver
go build -o "$tmp/hostile" ./scripts/load/hostile
# --rate 0: every client here shares one IP, so the per-client rate limit would hide what the other bounds do.
"$tmp/server" --addr "127.0.0.1:$PORT" --db "sqlite:$tmp/hostile.db" --data "$tmp" --rate 0 \
  >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done
"$tmp/hostile" -url "$URL" -duration "$DURATION" -good "$GOOD" -pid "$pid" -attacker-ip "${HOSTILE_ATTACKER_IP-127.0.0.2}"
echo "  server-side: $(curl -s "$URL/metrics" | grep -E '^digitpad_(rejections_total|connections_open|request_bodies_reading)' | tr '\n' ' ')"
