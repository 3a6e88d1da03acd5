package cnn

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// BenchmarkTrainStep measures one data-parallel training step (2 replicas × 64 samples) per architecture;
// samples/s = 128 / (ns/op).
func BenchmarkTrainStep(b *testing.B) {
	archs := []string{
		DefaultArch,
		"conv5x32p2-bn-relu-pool-conv3x48-bn-relu-pool-conv3x64-bn-relu-fc128-bn-relu-drop0.25-fc10",
		"conv3x32p1-bn-relu-pool-conv3x64p1-bn-relu-pool-fc128-bn-relu-fc10",
	}
	for _, s := range archs {
		arch, err := ParseArch(s)
		if err != nil {
			b.Fatal(err)
		}
		params, macs := arch.Cost()
		b.Run(fmt.Sprintf("params=%d_macs=%d", params, macs), func(b *testing.B) {
			net, _ := New(arch, 1)
			const per = 64
			reps := []*Replica{net.NewReplica(1, 0), net.NewReplica(1, 1)}
			rng := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, 2*per*784)
			for i := range x {
				x[i] = rng.Float32()
			}
			labels := make([]uint8, 2*per)
			for i := range labels {
				labels[i] = uint8(i % 10)
			}
			opt := NewAdam(1e-4)
			b.ResetTimer()
			for it := 0; it < b.N; it++ {
				var wg sync.WaitGroup
				for k, r := range reps {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r.ZeroGrad()
						r.TrainStep(x[k*per*784:(k+1)*per*784], labels[k*per:(k+1)*per], 1.0/(2*per), 0.1)
					}()
				}
				wg.Wait()
				ReduceGrads(reps)
				net.UpdateBatchNorm(reps, 0.1)
				opt.Step(net, reps[0].Grads, 1e-3)
			}
			b.ReportMetric(float64(2*per*b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range [][3]int{{64 * 784, 32, 25}, {64 * 144, 48, 288}, {288, 48, 64 * 144}, {64 * 16, 64, 432}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
			for i := range a {
				a[i] = float32(i%7) + 1
			}
			for i := range bb {
				bb[i] = float32(i%5) + 1
			}
			for i := 0; i < b.N; i++ {
				gemm(false, false, m, n, k, a, k, bb, n, 0, c, n)
			}
			b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
