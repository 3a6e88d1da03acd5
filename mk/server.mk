# Server: HTTP API, websocket, batcher, feedback capture (server/, shared/protocol/) and its load run.
# Included from the main Makefile. Targets:
#   make test-server   the server's tests with the race detector (test-go already runs them once without it,
#                      so this target is not added to TEST_TARGETS)
#   make bench-server  per-request cost of POST /v1/predict through the handler stack, and the batcher
#   make load          scripts/load/run.sh: start to ready, wrk closed loop for three canvases at 8..128
#                      connections, open-loop 3x burst, websocket, curve PNG (CURVE=), then the hostile-client
#                      phase (scripts/load/hostile.sh, ~40 s); ~3 minutes on 127.0.0.1; DURATION=, CONNS=,
#                      CANVASES=, RATE=, BURST_DURATION=, HOSTILE_DURATION= adjust it
SERVER_PKGS ?= ./server/ ./server/batcher/ ./server/internal/... ./shared/protocol/ ./scripts/load/

.PHONY: test-server bench-server load
test-server:
	$(GO) test -race -count=1 $(SERVER_PKGS)

bench-server:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./server/ ./server/batcher/

load:
	scripts/load/run.sh
