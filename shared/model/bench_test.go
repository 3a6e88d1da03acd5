package model_test

import (
	"fmt"
	"testing"

	"digitpad/internal/cputime"
	"digitpad/shared/model"
)

func benchRun(b *testing.B, onnxBytes []byte, n int) {
	for _, kernel := range model.Kernels() {
		b.Run(kernel, func(b *testing.B) {
			m := mustLoad(b, onnxBytes, model.WithKernel(kernel))
			in := make([]float32, n*m.InputSize())
			for i := range in {
				in[i] = float32(i%255) / 255
			}
			out := make([]float32, n*m.OutputSize())
			// Warm up: under WebAssembly, V8 optimises hot functions only after dozens of calls.
			for range 2 + 1000/n {
				if err := m.Run(in, n, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				if err := m.Run(in, n, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*n), "µs/digit")
			if cpu := cputime.Process() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N*n), "cpu-µs/digit")
			}
		})
	}
}

func BenchmarkZooBatch1(b *testing.B)  { benchRun(b, zooModel(b), 1) }
func BenchmarkZooBatch64(b *testing.B) { benchRun(b, zooModel(b), 64) }

// Trainer-shaped models of the size the lead may ship: conv 1->32 3x3, conv 32->64 3x3, fc 3136->128->10.
func BenchmarkConv32Batch1(b *testing.B)  { benchRun(b, trainerShaped(b, 1, -1, 32, 64, 128), 1) }
func BenchmarkConv32Batch64(b *testing.B) { benchRun(b, trainerShaped(b, 1, -1, 32, 64, 128), 64) }

// A smaller alternative: conv 1->16, conv 16->32, fc 1568->64->10.
func BenchmarkConv16Batch1(b *testing.B)  { benchRun(b, trainerShaped(b, 1, -1, 16, 32, 64), 1) }
func BenchmarkConv16Batch64(b *testing.B) { benchRun(b, trainerShaped(b, 1, -1, 16, 32, 64), 64) }

// BenchmarkAssets compares the shipped variants (assets/model.onnx, model-fp16.onnx, model-int8.onnx) on the
// fastest kernel at batch 1 and 64 (`make bench-quantize`, which also runs it under WebAssembly).
func BenchmarkAssets(b *testing.B) {
	for _, name := range []string{"model.onnx", "model-fp16.onnx", "model-int8.onnx"} {
		data := shippedFile(b, name)
		if data == nil {
			continue
		}
		for _, n := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/batch%d", name, n), func(b *testing.B) {
				m := mustLoad(b, data)
				in := make([]float32, n*m.InputSize())
				for i := range in {
					in[i] = float32(i%255) / 255
				}
				out := make([]float32, n*m.OutputSize())
				for range 2 + 1000/n {
					if err := m.Run(in, n, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := m.Run(in, n, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*n), "µs/digit")
			})
		}
	}
}
