# Model registry tests on both backends: the embedded one (SQLite + files) and the scale-out one (a throwaway
# PostgreSQL from scripts/pg-test.sh + a real S3 server process, internal/s3server, which the suite's TestMain
# builds with `go build` and starts on 127.0.0.1). Included from the main Makefile. `make test` covers these
# packages through test-go (go test ./... under with-postgres); this target runs just them:
#   make test-registry

REGISTRY_PKGS ?= ./registry/... ./internal/s3test/...

.PHONY: test-registry
test-registry:
	@$(call with-postgres,$(GO) test -count=1 $(REGISTRY_PKGS))
