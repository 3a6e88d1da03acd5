# Store and feedback-export tests, always against SQLite and a real throwaway PostgreSQL (scripts/pg-test.sh).
# Included from the main Makefile. Targets:
#   make test-store    run the store suite on both backends and the export tests
#   make bench-store   SaveFeedback records/s and SavePredictions rows/s on both backends
# Both use with-postgres (mk/common.mk).

STORE_PKGS ?= ./server/store/... ./server/export/...

.PHONY: test-store bench-store
test-store:
	@$(call with-postgres,$(GO) test -count=1 $(STORE_PKGS))

bench-store:
	@$(call with-postgres,$(GO) test -run '^$$' -bench . -benchtime 2s $(STORE_PKGS))

# test-store is covered by test-go, which runs all packages with PostgreSQL.
