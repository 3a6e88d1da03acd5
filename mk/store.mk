# Store and feedback-export tests, always against SQLite and a real throwaway PostgreSQL (scripts/pg-test.sh).
# Included from the main Makefile. Targets:
#   make test-store    run the store suite on both backends and the export tests
#   make bench-store   SaveFeedback records/s and SavePredictions rows/s on both backends
# The helper with-postgres runs any shell command with DIGITPAD_TEST_POSTGRES pointing at a fresh cluster and
# removes the cluster afterwards, whether the command passes or fails:
#   some-target: ; @$(call with-postgres,go test ./...)

PG_TEST    ?= scripts/pg-test.sh
STORE_PKGS ?= ./server/store/... ./server/export/...

# `eval "$(cmd)"` would swallow cmd's failure, hence the separate assignment.
with-postgres = set -e; pgenv=$$($(PG_TEST) start) || exit 1; eval "$$pgenv"; \
	trap '$(PG_TEST) stop "$$DIGITPAD_PGTEST_DIR"' EXIT; $(1)

.PHONY: test-store bench-store
test-store:
	@$(call with-postgres,$(GO) test -count=1 $(STORE_PKGS))

bench-store:
	@$(call with-postgres,$(GO) test -run '^$$' -bench . -benchtime 2s $(STORE_PKGS))

# test-store is covered by test-go, which runs all packages with PostgreSQL.
