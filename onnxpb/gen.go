// Package onnxpb holds Go types for the ONNX protobuf schema, generated from Debian libonnx-dev's onnx.proto.
//
// The proto package is renamed from "onnx" to "digitpad.onnx" before generation: onnx-go registers its own copy
// of the schema under "onnx", and two registrations of one name make the protobuf runtime panic at start.
// Regenerating needs Debian's protobuf-compiler and libonnx-dev and protoc-gen-go (see generate.sh).
package onnxpb

//go:generate bash generate.sh
