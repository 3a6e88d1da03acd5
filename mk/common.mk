# Helpers shared by the fragments (included first: mk/*.mk sorts common.mk before the others).
#   $(call apt-ensure,PKGS)     install the listed Debian packages that are missing (apt-get update only if needed)
#   $(call with-postgres,CMD)   run a shell command with DIGITPAD_TEST_POSTGRES pointing at a fresh throwaway
#                               PostgreSQL cluster (scripts/pg-test.sh), removed afterwards whether CMD passes or not:
#                                 some-target: ; @$(call with-postgres,go test ./...)
#   WEB_GEN                     where `make web` writes the wasm, wasm_exec.js, model graph and manifest
#   GO_WASM_EXEC                the -exec runner for `GOOS=js GOARCH=wasm go test` (node)
#   TEST_DEBS                   the Debian packages `make test`'s suites install; each fragment appends its own, and
#                               test-deps installs them all at once before the suites run side by side (two apt-get
#                               runs at once would fight over the dpkg lock)

apt-ensure = @missing=$$(for p in $(1); do \
	  [ "$$(dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null)" = installed ] || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "apt: installing" $$missing; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; fi

# scripts/pg-test.sh installs postgresql itself when it is missing; test-deps does it first for `make test`.
TEST_DEBS := postgresql

.PHONY: test-deps
test-deps:
	$(call apt-ensure,$(sort $(TEST_DEBS)))

PG_TEST ?= scripts/pg-test.sh
# `eval "$(cmd)"` would swallow cmd's failure, hence the separate assignment.
with-postgres = set -e; pgenv=$$($(PG_TEST) start) || exit 1; eval "$$pgenv"; \
	trap '$(PG_TEST) stop "$$DIGITPAD_PGTEST_DIR"' EXIT; $(1)

WEB_GEN := web/static/gen
GO_WASM_EXEC = $$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec
# Every GOOS=js build and test of `make test` takes -trimpath, as `make web` does, so the packages are compiled
# for wasm once and shared through the build cache (without it the paths differ and each is compiled twice).
WASM_TRIMPATH := -trimpath
