# Web pad (issue 4): included from the main Makefile.
#   make web        build the wasm recogniser and fill web/static/gen (wasm_exec.js, app.wasm, model, manifest)
#   make test-web   native + wasm (node) Go tests of the bridge and page handler, then the Chromium e2e
#   make serve-web  serve the pad on WEB_ADDR (default 127.0.0.1:8080) with the small static server
#   make web-bench  load-to-first-recognition and per-code timings in headless Chromium
# The browser gets the int8 variant: the smallest download at the same accuracy (README: model variants).
WEB_MODEL ?= assets/model-int8.onnx
WEB_ADDR ?= 127.0.0.1:8080
WEB_E2E  := web/e2e
# Saturating float->int conversions and sign extension (in every browser since 2021: Chrome 75, Firefox 64,
# Safari 15): Go otherwise guards each float->int conversion with compares and branches; mask rasterisation gets
# ~2.5x faster in node.
export GOWASM = satconv,signext

.PHONY: web test-web serve-web web-bench web-deps web-size

web:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o $(WEB_GEN)/app.wasm ./wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WEB_GEN)/wasm_exec.js
	$(GO) run ./web/cmd/webgen -model $(WEB_MODEL) -out $(WEB_GEN)
	rm -f $(WEB_GEN)/model.onnx.gz
	gzip -9 -n -k -f $(WEB_GEN)/app.wasm $(WEB_GEN)/model.graph
	@echo "web: app.wasm $$(wc -c < $(WEB_GEN)/app.wasm) bytes, gzip -9 $$(wc -c < $(WEB_GEN)/app.wasm.gz);" \
		"model graph gzip -9 $$(wc -c < $(WEB_GEN)/model.graph.gz)"

# Debian's Chromium (never a Playwright browser download) and the pinned e2e packages.
WEB_DEBS := chromium
TEST_DEBS += $(WEB_DEBS)
web-deps:
	$(call apt-ensure,$(WEB_DEBS))
	cd $(WEB_E2E) && npm ci --no-audit --no-fund

# Inside `make test` (TEST_PREPPED=1) the pad was built by test-prep and the native Go tests of ./web/... and
# ./wasm/... have run in test-go (go test ./...): neither is done a second time.
test-web: $(if $(TEST_PREPPED),$(WEB_GEN)/app.wasm,web) web-deps
	$(if $(TEST_PREPPED),,$(GO) test ./web/... ./wasm/...)
	GOOS=js GOARCH=wasm $(GO) test $(WASM_TRIMPATH) -exec="$(GO_WASM_EXEC)" ./wasm/...
	cd $(WEB_E2E) && node --test --test-concurrency=1 pad.test.mjs server.test.mjs clerk.test.mjs clerk-edit.test.mjs canary.test.mjs

serve-web: web
	$(GO) run ./web/cmd/webserve -addr $(WEB_ADDR)

web-bench:
	scripts/web-bench.sh

# Which packages make the wasm big (code bytes per package, from a build that keeps function names).
web-size:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -o /tmp/digitpad-app-names.wasm ./wasm
	node $(WEB_E2E)/wasm-size.mjs /tmp/digitpad-app-names.wasm 25
