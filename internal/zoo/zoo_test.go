package zoo

import (
	"strings"
	"testing"
)

func TestModel_FromOnnxGoModule(t *testing.T) {
	b, err := Model()
	if err != nil {
		t.Fatal(err)
	}
	// An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
	if len(b) < 20000 || b[0] != 0x08 {
		t.Errorf("zoo model: %d bytes starting %x, want the ~26 kB mnist-7 protobuf", len(b), b[:min(4, len(b))])
	}
}

func TestModel_MissingModuleIsAClearError(t *testing.T) {
	t.Setenv("ONNX_GO_DIR", t.TempDir())
	if _, err := Model(); err == nil || !strings.Contains(err.Error(), "mnist_binary.go") {
		t.Errorf("error = %v, want one naming mnist_binary.go", err)
	}
}
