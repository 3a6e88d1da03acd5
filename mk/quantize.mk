# Model compression (issue 3): included from the main Makefile.
#   make quantize-assets  (re)make assets/model-int8.onnx and assets/model-fp16.onnx with their model cards
#                         (assets/model-int8.json, assets/model-fp16.json) from assets/model.onnx; calibration uses
#                         the first QUANTIZE_CALIB MNIST training samples; cards hold size, gzip size, MNIST test and
#                         pad-like accuracy and native latency of the variant and of fp32
#   make test-quantize    onnxruntime (npm onnxruntime-node, installed with --ignore-scripts) loads the shipped
#                         variants and freshly quantised ONNX zoo models and must agree with digitpad's runtime;
#                         then the int8 runtime tests with -tags purego and under GOOS=js GOARCH=wasm (node)
#   make bench-quantize   fp32 / fp16 / int8 latency of the shipped models, native and in WASM (node)
QUANTIZE_SRC   ?= assets/model.onnx
QUANTIZE_CALIB ?= 1000
ORT_CHECK      := quantize/ort-check
QUANTIZE_RUN   ?= $(GO) run ./cmd/digitpad quantize

# The packages whose code the purego tag changes (shared/model's kernels, and onnxload, which runs them); the
# other packages under shared/model build the same with it and their tests run in test-go.
PUREGO_PKGS    := ./shared/model/ ./shared/model/onnxload/

.PHONY: quantize-assets test-quantize bench-quantize ort-check-deps

quantize-assets:
	$(QUANTIZE_RUN) --to int8 --calib $(QUANTIZE_CALIB) $(QUANTIZE_SRC) assets/model-int8.onnx
	$(QUANTIZE_RUN) --to fp16 $(QUANTIZE_SRC) assets/model-fp16.onnx

ort-check-deps:
	cd $(ORT_CHECK) && npm ci --ignore-scripts --no-audit --no-fund
	@test -f $(ORT_CHECK)/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node || \
	  { echo "onnxruntime-node has no native binary for linux/x64"; exit 1; }

test-quantize: ort-check-deps
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(GO) run ./$(ORT_CHECK)/golden -out "$$tmp" -zoo $(wildcard assets/model.onnx assets/model-int8.onnx assets/model-fp16.onnx); \
	  node $(ORT_CHECK)/check.mjs "$$tmp"/case*.json
	$(GO) test -count=1 -tags purego $(PUREGO_PKGS)
	ONNX_GO_DIR=$$($(GO) list -m -f '{{.Dir}}' github.com/owulveryck/onnx-go) GOOS=js GOARCH=wasm \
	  $(GO) test -count=1 $(WASM_TRIMPATH) -exec="$(GO_WASM_EXEC)" -run 'Int8|Quant|FP16|Widen' ./shared/model/

bench-quantize:
	$(GO) test -run '^$$' -bench 'Assets' -benchtime 2s ./shared/model/
	ONNX_GO_DIR=$$($(GO) list -m -f '{{.Dir}}' github.com/owulveryck/onnx-go) GOOS=js GOARCH=wasm \
	  $(GO) test -run '^$$' -bench 'Assets' -benchtime 2s -exec="$(GO_WASM_EXEC)" ./shared/model/

TEST_TARGETS += test-quantize
