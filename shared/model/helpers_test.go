package model_test

import (
	"os"
	"testing"

	"digitpad/internal/zoo"
	"github.com/owulveryck/onnx-go"
)

// zooDir is onnx-go's copy of the ONNX zoo MNIST model (CNTK mnist-7) and its test data.
func zooDir(tb testing.TB) string {
	tb.Helper()
	dir, err := zoo.Dir()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// zooModel returns the zoo model's bytes.
func zooModel(tb testing.TB) []byte {
	tb.Helper()
	b, err := zoo.Model()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readTensorFile reads an ONNX TensorProto file as float32s.
func readTensorFile(tb testing.TB, path string) []float32 {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	t, err := onnx.NewTensor(b)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	d, ok := t.Data().([]float32)
	if !ok {
		tb.Fatalf("%s: data is %T, want []float32", path, t.Data())
	}
	return d
}
