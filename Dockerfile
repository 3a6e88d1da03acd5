# digitpad server image: one static binary (CGO_ENABLED=0) with the web pad and the shipped models embedded,
# on an empty base, running as a non-root user with nothing writable but the volumes it is given.
#
# Two ways to fill the runtime stage, one build recipe (`make static` in the Makefile):
#   podman build -t digitpad .                                  builds in a Go container (needs a registry)
#   make image                                                  builds the binary on the host, then
#     = podman build --build-arg BUILD_FROM=prebuilt CTX        assembles the same runtime stage from it
# Buildah/BuildKit skip stages the target does not use, so `make image` never pulls the Go image.
#
# Run it with a read-only root filesystem and a writable /data only if the SQLite default is used:
#   podman run --read-only --cap-drop=ALL -p 127.0.0.1:8080:8080 --tmpfs /data digitpad
ARG GO_IMAGE=docker.io/library/golang:1.26.8-bookworm
ARG BUILD_FROM=build

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# make static runs make web first when the pad's wasm is missing, then builds bin/static/digitpad.
RUN make static STATIC_OUT=/out/digitpad && \
    mkdir -p /out/data /out/etc/ssl/certs && \
    cp deploy/image/passwd deploy/image/group /out/etc/ && \
    cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/

# The same layout, made on the host by `make image` (bin/image-ctx/out/...).
FROM scratch AS prebuilt
COPY out/ /out/

FROM ${BUILD_FROM} AS bin

FROM scratch
COPY --from=bin /out/etc/ /etc/
COPY --from=bin /out/digitpad /digitpad
COPY --from=bin --chown=65532:65532 /out/data/ /data/
USER 65532:65532
WORKDIR /data
EXPOSE 8080
ENTRYPOINT ["/digitpad"]
CMD ["serve", "--addr", ":8080", "--data", "/data", "--log-json"]
LABEL org.opencontainers.image.title="digitpad" \
      org.opencontainers.image.description="Handwritten postal-code recognition: HTTP/websocket API, web pad, feedback store"
