package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveQTiles is the reference for qtileFunc semantics, in float64 and without any blocking.
func naiveQTiles(rows int, a []byte, rowOff, off []int32, b []int8, nt, ncol int, c []byte, ldc int,
	scale, bias []float32, clamp [2]float32, flags uintptr) {
	kq := len(off)
	accs := make([][]int64, rows)
	for r := range accs {
		accs[r] = make([]int64, ncol)
		for col := range accs[r] {
			t, j := col/qnr, col%qnr
			for q := 0; q < kq; q++ {
				for e := 0; e < 4; e++ {
					accs[r][col] += int64(a[int(rowOff[r])+int(off[q])+e]) * int64(b[((t*kq+q)*qnr+j)*4+e])
				}
			}
		}
	}
	if flags&qflagPool != 0 {
		for g := 0; g < rows/4; g++ {
			for col := range accs[g] {
				accs[g][col] = max(accs[4*g][col], accs[4*g+1][col], accs[4*g+2][col], accs[4*g+3][col])
			}
		}
		accs = accs[:rows/4]
	}
	for r, row := range accs {
		for col, acc := range row {
			v := math.Min(math.Max(float64(acc)*float64(scale[col])+float64(bias[col]), float64(clamp[0])), float64(clamp[1]))
			if flags&qflagU8 != 0 {
				c[r*ldc+col] = uint8(math.RoundToEven(v))
			} else {
				bits := math.Float32bits(float32(v))
				for i := 0; i < 4; i++ {
					c[r*ldc+4*col+i] = byte(bits >> (8 * i))
				}
			}
		}
	}
}

func qkernelsUnderTest() []*qkernel {
	ks := []*qkernel{&genericQKernel}
	for _, k := range availableKernels() {
		if k.q != &genericQKernel {
			ks = append(ks, k.q)
		}
	}
	return ks
}

func TestQKernels_MatchNaiveGEMM(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, qk := range qkernelsUnderTest() {
		for _, flags := range []uintptr{0, qflagU8, qflagU8 | qflagPool, qflagPool} {
			for rows := 1; rows <= qk.mr; rows++ {
				if flags&qflagPool != 0 && rows%4 != 0 {
					continue
				}
				for _, ncol := range []int{1, 10, 16, 24, 32, 40, 64, 75} {
					name := fmt.Sprintf("%s/flags%d/rows%d/cols%d", qk.name, flags, rows, ncol)
					t.Run(name, func(t *testing.T) {
						kq, nt := 1+rng.IntN(30), (ncol+qnr-1)/qnr
						a := make([]byte, 400)
						for i := range a {
							a[i] = uint8(rng.IntN(256))
							if rng.IntN(3) == 0 {
								a[i] = 0 // zero quads take the kernels' skip paths
							}
						}
						rowOff := make([]int32, rows)
						for i := range rowOff {
							rowOff[i] = int32(rng.IntN(200))
						}
						off := make([]int32, kq)
						for i := range off {
							off[i] = int32(rng.IntN(190))
						}
						b := make([]int8, nt*kq*qnr*4)
						for i := range b {
							b[i] = int8(rng.IntN(256) - 128)
						}
						scale, bias := make([]float32, nt*qnr), make([]float32, nt*qnr)
						for i := range scale {
							scale[i] = rng.Float32() * 0.002
							bias[i] = rng.Float32()*100 - 20
						}
						clamp := [2]float32{0, 255}
						if flags&qflagU8 == 0 {
							clamp = [2]float32{-50, float32(math.Inf(1))}
						}
						outRows := rows
						if flags&qflagPool != 0 {
							outRows /= 4
						}
						ldc := ncol*4 + rng.IntN(8)
						// Canaries after each row's columns must survive (masked stores).
						got := make([]byte, outRows*ldc+64)
						want := make([]byte, len(got))
						for i := range got {
							got[i], want[i] = 0xa5, 0xa5
						}
						qk.gemm(rows, a, rowOff, off, slices.Max(off), qk.packB(b, kq, nt), nt, ncol, got, ldc, scale, bias, &clamp, flags)
						naiveQTiles(rows, a, rowOff, off, b, nt, ncol, want, ldc, scale, bias, clamp, flags)
						for i := range got {
							if got[i] == want[i] {
								continue
							}
							// float32 FMA vs float64 may differ in the last bit; uint8 results by one at a .5 tie.
							r, col := i/ldc, (i%ldc)/4
							if flags&qflagU8 != 0 {
								col = i % ldc
								if d := int(got[i]) - int(want[i]); col < ncol && (d == 1 || d == -1) {
									continue
								}
							} else if col < ncol {
								g := math.Float32frombits(le32(got[r*ldc+4*col:]))
								w := math.Float32frombits(le32(want[r*ldc+4*col:]))
								if math.Abs(float64(g-w)) <= 1e-5*math.Max(1, math.Abs(float64(w))) {
									continue
								}
							}
							t.Fatalf("byte %d (row %d) = %#x, want %#x", i, r, got[i], want[i])
						}
					})
				}
			}
		}
	}
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// BenchmarkQKernel runs a conv2-shaped int8 GEMM (216 taps x channels, 32 output channels, 8 rows).
func BenchmarkQKernel(b *testing.B) {
	for _, qk := range qkernelsUnderTest() {
		b.Run(qk.name, func(b *testing.B) {
			kq := 54
			a := make([]byte, 4096)
			for i := range a {
				a[i] = uint8(i * 7)
			}
			rowOff := make([]int32, qk.mr)
			for i := range rowOff {
				rowOff[i] = int32(24 * i)
			}
			off := make([]int32, kq)
			for i := range off {
				off[i] = int32(4 * i * 5)
			}
			bb := make([]int8, kq*qnr*4)
			scale, bias := make([]float32, qnr), make([]float32, qnr)
			c := make([]byte, qk.mr*32)
			clamp := [2]float32{0, 255}
			packed := qk.packB(bb, kq, 1)
			for b.Loop() {
				qk.gemm(qk.mr, a, rowOff, off, off[kq-1], packed, 1, 32, c, 32, scale, bias, &clamp, qflagU8)
			}
			b.ReportMetric(float64(qk.mr*kq*4*32)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// TestQuantize_ZeroOfEitherSignIsOneValue is what quantizeStep's zero fast path relies on: +0 and -0 quantize
// to the value it computes once, whatever the scale (a zero scale makes NaN, saturated to 0) and zero point.
func TestQuantize_ZeroOfEitherSignIsOneValue(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	for _, scale := range []float32{1e-30, 1.0 / 255, 0.02, 1, 3e5, -0.5, 0, negZero} {
		for _, zp := range []float32{0, 1, 127, 128, 255} {
			want := quantize(0/scale, zp)
			if got := quantize(negZero/scale, zp); got != want {
				t.Errorf("scale %v, zero point %v: -0 quantizes to %d, +0 to %d", scale, zp, got, want)
			}
		}
	}
}
