# The peer of issue 16 and digitpad's comparison with it (scripts/peer, scripts/load/peer.sh). Included from the
# main Makefile. Targets:
#   make peer-deps   the peer's npm packages (onnxruntime-node, pngjs; exact versions, package-lock.json) into
#                    scripts/peer/node_modules from the npm registry or its cache (--ignore-scripts: the
#                    package ships its linux x64 library; its install script would fetch more); again only when
#                    the lock file changes
#   make load-peer   scripts/load/peer.sh: digitpad and the peer on 127.0.0.1, both checked on 200 MNIST test
#                    digits, then the same wrk rounds (4 canvases × 8..128 connections) against each, alternating;
#                    prints issue 16's side-by-side table; TSV and PNG in COMPARE= (default: a temp file);
#                    ~4 minutes; ROUNDS=3 keeps each server's best of 3 alternating runs per row;
#                    DURATION=, CONNS=, CANVASES=, WARMUP= adjust it
#   make test-peer   peer.sh at its smallest (one 1-s row, 8 connections, the MNIST canvas): both servers must
#                    read >= 95% of 200 MNIST test digits and the comparison must run (~15 s on a quiet box)
PEER_DIR := scripts/peer
PEER_DEBS := wrk
PEER_STAMP := $(PEER_DIR)/node_modules/.package-lock.json
# test-peer's ports (digitpad, peer): apart from make load's 18090/18091 and load-peer's 18092/18093.
TEST_PEER_PORTS ?= 18094 18095

.PHONY: peer-deps load-peer test-peer
peer-deps: $(PEER_STAMP)

$(PEER_STAMP): $(PEER_DIR)/package.json $(PEER_DIR)/package-lock.json
	cd $(PEER_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@test -f $(PEER_DIR)/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1 || \
	  { echo "onnxruntime-node has no native library for linux/x64"; exit 1; }
	@touch $@

load-peer: peer-deps
	$(call apt-ensure,$(PEER_DEBS))
	scripts/load/peer.sh

test-peer: peer-deps
	$(call apt-ensure,$(PEER_DEBS))
	PORT=$(word 1,$(TEST_PEER_PORTS)) PEER_PORT=$(word 2,$(TEST_PEER_PORTS)) CANVASES=76x64-gray-mnist CONNS=8 DURATION=1s WARMUP=0s \
	  scripts/load/peer.sh

TEST_TARGETS += test-peer
TEST_DEBS += $(PEER_DEBS)
