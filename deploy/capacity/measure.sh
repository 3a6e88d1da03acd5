#!/usr/bin/env bash
# measure.sh: one replica's goodput and CPU cost per request on 127.0.0.1, for the capacity plan (CAPACITY.md).
# Starts bin/digitpad serve (in-memory store, no rate limit), drives it with wrk (closed loop, 1 thread) at a few
# connection counts with a 5-digit 640x200 canvas PNG (assets/samples/20500_mnist.png) as JSON, and prints per
# step: requests/s, p50/p99, non-2xx, and the server's CPU time per request (utime+stime from /proc, which does not
# depend on what else the shared box is doing, unlike requests/s). Bounded: DURATION (default 5s) per step.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/digitpad}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-"1 2 4 8 16"}
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --addr 127.0.0.1:$port --db mem: --data "$tmp" --rate 0 --log-level warn >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
printf '{"image":"%s"}' "$(base64 -w0 assets/samples/20500_mnist.png)" > "$tmp/body.json"
cat > "$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$tmp/body.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA
curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$tmp/body.json" http://127.0.0.1:$port/v1/predict | \
  python3 -c 'import json,sys; r=json.load(sys.stdin); print("check: code", r["code"], "digits", len(r["digits"]))'
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
printf '%-6s %10s %9s %9s %8s %14s\n' conns req/s p50_ms p99_ms non2xx server_cpu_ms/req
for c in $CONNS; do
  c0=$(cpu)
  wrk -t1 -c"$c" -d"$DURATION" --latency -s "$tmp/post.lua" http://127.0.0.1:$port/v1/predict > "$tmp/wrk.txt"
  c1=$(cpu)
  python3 - "$tmp/wrk.txt" "$c" "$c0" "$c1" "$tck" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    v, u = re.match(r'([\d.]+)(us|ms|s|m)', s).groups()
    return float(v) * {'us': 1e-3, 'ms': 1, 's': 1e3, 'm': 6e4}[u]
rps = float(re.search(r'Requests/sec:\s+([\d.]+)', t).group(1))
n = int(re.search(r'(\d+) requests in', t).group(1))
p50 = ms(re.search(r'^\s+50%\s+(\S+)', t, re.M).group(1)); p99 = ms(re.search(r'^\s+99%\s+(\S+)', t, re.M).group(1))
bad = re.search(r'Non-2xx or 3xx responses: (\d+)', t)
cpu_ms = (float(sys.argv[4]) - float(sys.argv[3])) / float(sys.argv[5]) * 1000 / max(n, 1)
print(f"{sys.argv[2]:<6} {rps:10.0f} {p50:9.2f} {p99:9.2f} {int(bad.group(1)) if bad else 0:8d} {cpu_ms:14.3f}")
PY
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (the box is shared: requests/s are a floor; CPU ms/request is the portable figure)"
