# Deployment (issue 17): container image, Kubernetes manifests, scale-out test, AWS IaC, capacity plan.
# Included from the main Makefile. Targets:
#   make static        bin/static/digitpad: the static (CGO_ENABLED=0) server/CLI with the web pad embedded
#   make image         the Dockerfile's image, built with podman (no Docker daemon, no registry): the binary is
#                      built on the host (make static) and the Dockerfile's runtime stage assembled from it
#   make test-image    runs the image with podman on 127.0.0.1: ready, a prediction, SIGTERM drains, exit 0
#   make test-k8s      renders deploy/k8s overlays with the kustomize API and validates every object against the
#                      Kubernetes OpenAPI v3 schemas of K8S_VERSION (the k8s.io/kubernetes module's api/openapi-spec,
#                      fetched once from the Go module proxy into the module cache; not a dependency of go.mod)
STATIC_OUT ?= bin/static/digitpad
IMAGE      ?= localhost/digitpad:dev
IMAGE_CTX  := bin/image-ctx
IMAGE_DEBS := podman buildah runc uidmap ca-certificates
# What rootful podman needs on a machine without systemd and with no registry to pull from.
PODMAN_RUN_FLAGS := --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --pull=never

K8S_VERSION ?= v1.37.2

.PHONY: static image image-deps test-image test-k8s

static: $(WEB_GEN)/app.wasm
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(STATIC_OUT) ./cmd/digitpad

image-deps:
	$(call apt-ensure,$(IMAGE_DEBS))

image: image-deps static
	rm -rf $(IMAGE_CTX) && mkdir -p $(IMAGE_CTX)/out/data $(IMAGE_CTX)/out/etc/ssl/certs
	cp $(STATIC_OUT) $(IMAGE_CTX)/out/digitpad
	cp deploy/image/passwd deploy/image/group $(IMAGE_CTX)/out/etc/
	cp /etc/ssl/certs/ca-certificates.crt $(IMAGE_CTX)/out/etc/ssl/certs/
	podman build --runtime runc --pull=never --build-arg BUILD_FROM=prebuilt -f $(abspath Dockerfile) \
	  -t $(IMAGE) $(IMAGE_CTX)
	@echo "image $(IMAGE): $$(podman image inspect --format '{{.Size}}' $(IMAGE)) bytes uncompressed," \
	  "binary gzip -6 $$(gzip -6 -c $(STATIC_OUT) | wc -c) bytes"

test-image: image
	DIGITPAD_IMAGE=$(IMAGE) DIGITPAD_PODMAN_RUN_FLAGS="$(PODMAN_RUN_FLAGS)" \
	  $(GO) test -count=1 -tags podman -timeout 5m ./deploy/imagetest/

# `go mod download` runs outside the repository's module so go.mod/go.sum stay as they are.
test-k8s:
	@dir=$$(cd / && GOFLAGS= $(GO) mod download -json k8s.io/kubernetes@$(K8S_VERSION) | \
	  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p') && test -d "$$dir/api/openapi-spec/v3" && \
	  DIGITPAD_K8S_OPENAPI=$$dir/api/openapi-spec/v3 $(GO) test -count=1 -tags k8sschema ./deploy/k8s/

TEST_TARGETS += test-image test-k8s
TEST_DEBS += $(IMAGE_DEBS)

# test-scale: three replicas behind HAProxy on one throwaway PostgreSQL; crash, restart, rolling restart (~1 min).
SCALE_DEBS := haproxy
.PHONY: test-scale
test-scale: build
	$(call apt-ensure,$(SCALE_DEBS))
	@$(call with-postgres,DIGITPAD_BIN=$(abspath $(BIN)) $(GO) test -count=1 -v -tags scale -timeout 5m ./deploy/scaletest/)
TEST_TARGETS += test-scale
TEST_DEBS += $(SCALE_DEBS)

# test-aws: the AWS CDK app (deploy/aws: VPC, EKS, RDS, S3, ECR, IRSA) is tested on its synthesised template and
# synthesised by the cdk CLI inside a network namespace with no network (unshare -n), so nothing can reach AWS
# (instance-metadata lookups are switched off as well). npm ci of the pinned aws-cdk-lib + aws-cdk: ~215 MB.
CDK_ENV := AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true \
	AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= AWS_PROFILE=
.PHONY: aws-deps test-aws aws-synth
aws-deps:
	cd deploy/aws && npm ci --ignore-scripts --no-audit --no-fund

aws-synth: aws-deps
	cd deploy/aws && rm -rf cdk.out && $(CDK_ENV) unshare -n npx --no-install cdk synth --no-notices -q -o cdk.out && \
	  node bin/check-synth.js

test-aws: aws-synth
	cd deploy/aws && $(CDK_ENV) unshare -n node --test test/

TEST_TARGETS += test-aws

# capacity: the HPA simulation against a 10x shift-change burst of the seed load (deploy/capacity/CAPACITY.md);
# writes deploy/capacity/hpa.png and prints the scenarios of the plan. capacity-measure: one replica's CPU per
# request and goodput with wrk on 127.0.0.1 (~30 s; the numbers the simulation takes).
.PHONY: capacity capacity-measure
capacity:
	$(GO) run ./deploy/capacity/cmd/hpasim -out deploy/capacity/hpa.png
	@for s in "100 6 30" "1000 10 100" "1000 60 120"; do set -- $$s; echo "== base $$1 req/s, 10x bursts, minReplicas $$2, maxReplicas $$3"; \
	  $(GO) run ./deploy/capacity/cmd/hpasim -png=false -base $$1 -min-replicas $$2 -max-replicas $$3 | tail -1; done

capacity-measure: build
	$(call apt-ensure,wrk)
	deploy/capacity/measure.sh
