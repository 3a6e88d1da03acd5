#!/usr/bin/env bash
# Regenerates onnx.pb.go from Debian libonnx-dev's onnx.proto (apt-get install protobuf-compiler libonnx-dev;
# go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e 's/^package onnx;/package digitpad.onnx;/' /usr/include/onnx/onnx.proto > "$tmp/onnx.proto"
printf '\noption go_package = "digitpad/onnxpb";\n' >> "$tmp/onnx.proto"
PATH="$(go env GOPATH)/bin:$PATH" protoc -I "$tmp" --go_out=. --go_opt=paths=source_relative "$tmp/onnx.proto"
