# digitpad — `make run` (the main job) and `make test` (everything) work on a fresh Debian machine with Go.
SHELL := /bin/bash
GO ?= go
export GOTOOLCHAIN := local
export GOFLAGS := -mod=mod
BIN := bin/digitpad

.PHONY: all build run samples test test-go lint wasm-core train train-pair train-smoke clean
# The default goal comes before the fragments, so a bare `make` builds and never runs a fragment's first target.
all: build

# Fragments add their own targets and append to TEST_TARGETS; mk/common.mk (sorted first) holds the shared
# helpers: apt-ensure, with-postgres, WEB_GEN, GO_WASM_EXEC.
TEST_TARGETS :=
-include mk/*.mk

# The server embeds the web pad, so the wasm is built first when it is missing. Inside `make test`'s lanes
# (TEST_PREPPED=1) bin/digitpad is already built by test-prep and not linked again.
build: $(WEB_GEN)/app.wasm
	$(if $(TEST_PREPPED),@:,$(GO) build -o $(BIN) ./cmd/digitpad)

$(WEB_GEN)/app.wasm:
	$(MAKE) web

## run: the main job — build everything and serve the web pad, API (docs at /docs) and feedback store
## (SQLite under data/) on embedded defaults. ADDR=host:port to change the address.
ADDR ?= 127.0.0.1:8080
run: web build
	$(BIN) serve --addr $(ADDR) --data data

## samples: recognise the sample canvas snapshots shipped in assets/samples (one JSON line each).
samples: build
	$(BIN) predict assets/samples

## train: reproduce the shipped model into assets/ (~18 + ~10 + ~12 + ~15 + ~10 min on 2 idle cores), then its int8/fp16
## variants, their calibration, the monitor's reference profile and the web graph. Stage 1 trains on MNIST (seed 1,
## 4 data-parallel workers, 12 epochs, the AVX-512 training kernel: GOEXPERIMENT=simd; without it gonum BLAS is
## used and the weights round differently); stage 2 fine-tunes it on MNIST + synthetic training writers + MNIST
## redrawn as canvases; stage 3 fine-tunes that on crops of cut 5-digit codes; stage 4 on more crops, averaged with
## stage 3; stage 5 on training writers with rare habits (strong slant, hairline pens, flat-topped 3s) (mk/evalpad.mk);
## then the pair reader, the second reader (mk/second.mk), the variants and the calibration.
TRAIN_BASE ?= /tmp/digitpad-train-base
TRAIN_STAGE2 ?= /tmp/digitpad-train-stage2
TRAIN_STAGE3 ?= /tmp/digitpad-train-stage3
TRAIN_STAGE4 ?= /tmp/digitpad-train-stage4
train:
	GOEXPERIMENT=simd $(GO) run ./train/cmd/train -out $(TRAIN_BASE) -seed 1 -workers 4 -epochs 12
	GOEXPERIMENT=simd $(GO) run ./train/cmd/train -out $(TRAIN_STAGE2) -init $(TRAIN_BASE)/model.onnx $(TRAIN_FINETUNE)
	GOEXPERIMENT=simd $(GO) run ./train/cmd/train -out $(TRAIN_STAGE3) -init $(TRAIN_STAGE2)/model.onnx $(TRAIN_CODES)
	GOEXPERIMENT=simd $(GO) run ./train/cmd/train -out $(TRAIN_STAGE4) -init $(TRAIN_STAGE3)/model.onnx $(TRAIN_CODES2)
	GOEXPERIMENT=simd $(GO) run ./train/cmd/train -out assets -init $(TRAIN_STAGE4)/model.onnx $(TRAIN_RARE)
	$(MAKE) train-pair train-second quantize-assets calibrate-assets profile-assets web

## train-pair: the pair reader (assets/pair-*.onnx, card assets/pair.json): two 28×28 models reading the left and
## the right digit of a lattice piece holding two touching digits (~30 min on 2 shared cores).
TRAIN_PAIR ?= /tmp/digitpad-train-pair
train-pair:
	$(GO) run ./train/cmd/trainpair -out $(TRAIN_PAIR)
	cp $(TRAIN_PAIR)/pair-left.onnx $(TRAIN_PAIR)/pair-right.onnx assets/

## test: every check, installing what it needs. First what both lanes below share, once: the Debian packages of
## every suite (test-deps: one apt-get update on a clean machine, not one per suite), the web pad and bin/digitpad.
## Then two lanes side by side, each in order: the Go lane (TEST_LANE_GO: vet, the Go tests, fuzzing; CPU-bound)
## and the services lane (TEST_LANE_SERVICES: the suites that mostly wait on podman, Chromium, Prometheus, HAProxy,
## Xvfb, npm). Each lane's output comes whole when the lane ends (make -Orecurse); TEST_SERIAL=1 runs one lane after
## the other.
TEST_LANE_GO       := lint wasm-core test-go fuzz-smoke test-quantize
TEST_LANE_SERVICES  = train-smoke test-web $(filter-out $(TEST_LANE_GO),$(TEST_TARGETS))
TEST_JOBS          := $(if $(TEST_SERIAL),-j1,-j2 -Orecurse)
.PHONY: test-prep test-lane-go test-lane-services
test:
	@$(MAKE) --no-print-directory -j1 test-prep
	@$(MAKE) --no-print-directory $(TEST_JOBS) test-lane-go test-lane-services TEST_PREPPED=1
	@echo "make test: all suites passed"

test-prep: test-deps web build

test-lane-go:
	@$(MAKE) --no-print-directory -j1 $(TEST_LANE_GO) TEST_PREPPED=1

test-lane-services:
	@$(MAKE) --no-print-directory -j1 $(TEST_LANE_SERVICES) TEST_PREPPED=1

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## wasm-core: shared/ must stay pure Go and build for the browser.
wasm-core:
	CGO_ENABLED=0 GOOS=js GOARCH=wasm $(GO) build $(WASM_TRIMPATH) ./shared/...
	CGO_ENABLED=0 $(GO) build ./shared/...

# test-go runs every Go package's tests, with a throwaway PostgreSQL for the store suite (mk/common.mk). Inside
# `make test` (TEST_PREPPED=1) lint's `go vet ./...` has run every analyzer on every package, so go test's own vet
# pass (a subset of those analyzers, not cached with them) is not run again.
test-go:
	@$(call with-postgres,$(GO) test -count=1 -timeout 30m $(if $(TEST_PREPPED),-vet=off) $(GO_TEST_FLAGS) ./...)

## train-smoke: a few hundred training steps on a subset prove the pipeline and the ONNX export.
train-smoke: build
	tmp=$$(mktemp -d) && $(BIN) train --out $$tmp --limit 3000 --steps 300 --epochs 1 && \
	  $(BIN) eval --model $$tmp/model.onnx --json && rm -rf $$tmp

clean:
	rm -rf bin
