package model_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
)

func mustLoad(tb testing.TB, b []byte, opts ...model.Option) *model.Model {
	tb.Helper()
	m, err := onnxload.Load(b, opts...)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return m
}

// closeTo compares with a tolerance relative to the magnitude (the zoo model's logits reach the thousands).
func closeTo(got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("len %d, want %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*math.Max(1, math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			return fmt.Errorf("[%d] = %v, want %v (diff %g)", i, got[i], want[i], d)
		}
	}
	return nil
}

func TestZoo_ReproducesTestDataSets(t *testing.T) {
	for _, kernel := range model.Kernels() {
		m := mustLoad(t, zooModel(t), model.WithKernel(kernel))
		for i := 0; i < 3; i++ {
			t.Run(fmt.Sprintf("%s/test_data_set_%d", kernel, i), func(t *testing.T) {
				dir := filepath.Join(zooDir(t), fmt.Sprintf("test_data_set_%d", i))
				in := readTensorFile(t, filepath.Join(dir, "input_0.pb"))
				want := readTensorFile(t, filepath.Join(dir, "output_0.pb"))
				got := make([]float32, m.OutputSize())
				if err := m.Run(in, 1, got); err != nil {
					t.Fatal(err)
				}
				if err := closeTo(got, want, 1e-4); err != nil {
					t.Error(err)
				}
			})
		}
	}
}
