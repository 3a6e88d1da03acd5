package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveTiles is the reference for tileFunc semantics.
func naiveTiles(rows int, a []float32, lda int, b []float32, off []int32, nr int, c []float32, ldc, nt, bstride int, bias []float32, flags uintptr) {
	for t := 0; t < nt; t++ {
		for r := 0; r < rows; r++ {
			for j := 0; j < nr; j++ {
				var s float64
				for k, o := range off {
					s += float64(a[r*lda+k]) * float64(b[t*bstride+int(o)/4+j])
				}
				if flags&flagRowBias != 0 {
					s += float64(bias[r])
				}
				if flags&flagColBias != 0 {
					s += float64(bias[t*nr+j])
				}
				if flags&flagRelu != 0 && s < 0 {
					s = 0
				}
				c[r*ldc+t*nr+j] = float32(s)
			}
		}
	}
}

func TestKernels_MatchNaiveGEMM(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kr := range availableKernels() {
		for rows := 1; rows <= kr.mr; rows++ {
			for _, flags := range []uintptr{0, flagRelu, flagRowBias | flagRelu, flagColBias} {
				name := fmt.Sprintf("%s/rows%d/flags%d", kr.name, rows, flags)
				t.Run(name, func(t *testing.T) {
					k, nt := 1+rng.IntN(40), 1+rng.IntN(4)
					lda := k + rng.IntN(3)
					bstride := kr.nr + rng.IntN(5)
					off := make([]int32, k)
					offMax := 0
					for i := range off {
						o := rng.IntN(50)
						off[i] = int32(o * 4)
						offMax = max(offMax, o)
					}
					a := randSlice(rng, (rows-1)*lda+k)
					b := randSlice(rng, (nt-1)*bstride+offMax+kr.nr)
					ldc := nt*kr.nr + rng.IntN(3)
					bias := randSlice(rng, nt*kr.nr)
					got := make([]float32, (rows-1)*ldc+nt*kr.nr)
					want := make([]float32, len(got))
					kr.gemm(rows, a, lda, b, off, offMax, got, ldc, nt, bstride, bias, flags)
					naiveTiles(rows, a, lda, b, off, kr.nr, want, ldc, nt, bstride, bias, flags)
					for i := range got {
						if math.Abs(float64(got[i]-want[i])) > 1e-4 {
							t.Fatalf("c[%d] = %v, want %v", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// BenchmarkKernel runs a convolution-shaped GEMM (K=200, 8 or 4 rows, 10 tiles) and reports GFLOP/s.
func BenchmarkKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kr := range availableKernels() {
		b.Run(kr.name, func(b *testing.B) {
			k, nt := 200, 240/kr.nr
			off := make([]int32, k)
			for i := range off {
				off[i] = int32((i%25 + (i/25)*324) * 4)
			}
			offMax := int(off[k-1] / 4)
			a := randSlice(rng, kr.mr*k)
			bb := randSlice(rng, (nt-1)*kr.nr+offMax+kr.nr)
			c := make([]float32, kr.mr*nt*kr.nr)
			for b.Loop() {
				kr.gemm(kr.mr, a, k, bb, off, offMax, c, nt*kr.nr, nt, kr.nr, nil, 0)
			}
			flops := 2 * float64(kr.mr*k*nt*kr.nr)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestPoolKernels_MatchPortableVersions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kr := range availableKernels() {
		for wo := 1; wo <= 20; wo++ {
			c, ho := 1+rng.IntN(3), 1+rng.IntN(4)
			rowStride := 2*wo + rng.IntN(3)
			plane := 2*ho*rowStride + rng.IntN(5)
			src := randSlice(rng, c*plane)
			got := make([]float32, c*ho*wo)
			want := make([]float32, len(got))
			kr.maxPool2x2(got, src, c, ho, wo, plane, rowStride)
			maxPool2x2Go(want, src, c, ho, wo, plane, rowStride)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s maxPool2x2 wo=%d: [%d] = %v, want %v", kr.name, wo, i, got[i], want[i])
				}
			}
			nrows := 1 + rng.IntN(4)
			rows := randSlice(rng, nrows*rowStride)
			got, want = got[:wo], want[:wo]
			kr.maxRows(got, rows, nrows, rowStride)
			maxRowsGo(want, rows, nrows, rowStride)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s maxRows n=%d: [%d] = %v, want %v", kr.name, wo, i, got[i], want[i])
				}
			}
		}
	}
}
