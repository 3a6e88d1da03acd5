package onnxload_test

import (
	"os"
	"testing"

	"digitpad/shared/model/onnxload"
)

// FuzzLoad: any bytes given as an ONNX model (the admin route's input) load or are refused with an error, never
// a panic or a hang. The seed corpus in testdata/fuzz/FuzzLoad holds small valid and broken models; the
// shipped models are added as seeds too.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"../../../assets/model-int8.onnx"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := onnxload.Load(b); err == nil && m == nil {
			t.Fatal("Load returned neither a model nor an error")
		}
		_, _ = onnxload.GraphFile(b)
	})
}
