package model_test

import (
	"errors"
	"os"
	"testing"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"
)

// gorgonnxRun runs one sample through onnx-go's own gorgonia backend, the independent reference.
func gorgonnxRun(tb testing.TB, onnxBytes []byte, inShape []int, in []float32) []float32 {
	tb.Helper()
	backend := gorgonnx.NewGraph()
	m := onnx.NewModel(backend)
	if err := m.UnmarshalBinary(onnxBytes); err != nil {
		tb.Fatalf("gorgonnx decode: %v", err)
	}
	shape := append([]int{1}, inShape...)
	if err := m.SetInput(0, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), in...)))); err != nil {
		tb.Fatal(err)
	}
	if err := backend.Run(); err != nil {
		tb.Fatalf("gorgonnx run: %v", err)
	}
	outs, err := m.GetOutputTensors()
	if err != nil {
		tb.Fatal(err)
	}
	return append([]float32(nil), outs[0].Data().([]float32)...)
}

// shippedModel is the trained model every shell ships; the tests fail without it.
func shippedModel(tb testing.TB) []byte {
	b := shippedFile(tb, "model.onnx")
	if b == nil {
		tb.Fatal("assets/model.onnx is missing: the shipped model must be tested")
	}
	return b
}

// shippedFile is a file of assets/, nil while it does not exist.
func shippedFile(tb testing.TB, name string) []byte {
	b, err := os.ReadFile("../../assets/" + name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestRun_MatchesGorgonnx(t *testing.T) {
	cases := []struct {
		name  string
		model []byte
		scale float32 // input range: the zoo model takes 0..255
	}{
		{"zoo mnist-7", zooModel(t), 255},
		{"trainer-shaped conv8/16 fc32", trainerShaped(t, 1, 1, 8, 16, 32), 1},
		{"trainer-shaped conv4/8 fc16", trainerShaped(t, 2, 1, 4, 8, 16), 1},
	}
	if b := shippedModel(t); b != nil {
		cases = append(cases, struct {
			name  string
			model []byte
			scale float32
		}{"assets/model.onnx", b, 1})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := mustLoad(t, tc.model)
			for seed := uint64(0); seed < 3; seed++ {
				in := digitLike(seed, 1, m.InputSize())
				for i := range in {
					in[i] *= tc.scale
				}
				want := gorgonnxRun(t, tc.model, m.InputShape(), in)
				got := make([]float32, m.OutputSize())
				if err := m.Run(in, 1, got); err != nil {
					t.Fatal(err)
				}
				if err := closeTo(got, want, 1e-5); err != nil {
					t.Errorf("seed %d: %v", seed, err)
				}
			}
		})
	}
}
