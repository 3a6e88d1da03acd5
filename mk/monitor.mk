# Monitoring (issue 15): included from the main Makefile.
#   make profile-assets  (re)compute the reference profile of each shipped model (assets/model*.onnx) on the MNIST
#                        validation slice and write it into the model card (field reference_profile; other fields
#                        unchanged). Rerun after `make train` or `make quantize-assets`.
PROFILE_MODELS ?= $(wildcard assets/model.onnx assets/model-int8.onnx assets/model-fp16.onnx)

.PHONY: profile-assets

profile-assets:
	@for m in $(PROFILE_MODELS); do $(GO) run ./cmd/digitpad profile --model $$m || exit 1; done

# The dashboard's charting library: uPlot from npm (package-lock in server/dashboard), copied into the folder the
# server embeds. `make build` fills it; without it `go test ./...` still compiles and the page says what to run.
DASH_DIR := server/dashboard
DASH_GEN := $(DASH_DIR)/gen

.PHONY: dashboard
dashboard: $(DASH_GEN)/uPlot.iife.min.js

$(DASH_GEN)/uPlot.iife.min.js: $(DASH_DIR)/package-lock.json
	cd $(DASH_DIR) && npm ci --no-audit --no-fund
	cp $(DASH_DIR)/node_modules/uplot/dist/uPlot.iife.min.js $(DASH_DIR)/node_modules/uplot/dist/uPlot.min.css $(DASH_GEN)/

build: $(DASH_GEN)/uPlot.iife.min.js

# test-monitor: the Prometheus rules with promtool (check + a unit test for every alert), a real Prometheus
# (Debian's, installed when missing) scraping two running digitpad servers and evaluating the rules and the
# Grafana dashboard's queries, then the dashboard page in Debian's headless Chromium, which also refreshes
# docs/dashboard.png. About 1-2 minutes.
.PHONY: test-monitor monitor-deps
MONITOR_DEBS := prometheus chromium
monitor-deps:
	$(call apt-ensure,$(MONITOR_DEBS))

test-monitor: monitor-deps dashboard
	promtool check rules deploy/prometheus/digitpad-rules.yml
	promtool test rules deploy/prometheus/digitpad-rules.test.yml
	$(GO) test -count=1 -tags prometheus -timeout 5m ./deploy/prometheus/
	cd $(DASH_DIR) && node --test dashboard.test.mjs

TEST_TARGETS += test-monitor
TEST_DEBS += $(MONITOR_DEBS)
