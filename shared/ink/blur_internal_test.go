package ink

import (
	"math/rand/v2"
	"testing"
)

// The padded blur must give exactly the sums of the bounds-checked one: padding taps add exact zeros.
func TestBlur_MatchesBoundsChecked(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 200 {
		var a [784]float32
		// Half the images hold ink only inside a box, as a digit in its frame does (blank rows and columns
		// around it, which blur skips).
		x0, y0 := rng.IntN(side), rng.IntN(side)
		x1, y1 := x0+rng.IntN(side-x0+1), y0+rng.IntN(side-y0+1)
		for p := range a {
			inBox := p%side >= x0 && p%side < x1 && p/side >= y0 && p/side < y1
			if rng.IntN(3) == 0 && (i%2 == 0 || inBox) {
				a[p] = rng.Float32()
			}
		}
		b := a
		sigma := 0.05 + 4*rng.Float64()
		if i%50 == 0 {
			sigma = 6 // beyond maxBlurRadius/3: the slow path itself
		}
		blur(a[:], sigma)
		blurSlow(b[:], sigma)
		if a != b {
			t.Fatalf("sigma %.3f: padded blur differs from the bounds-checked one", sigma)
		}
	}
}

// The transposed first pass must give exactly the row-by-row sums.
func TestResample_SameSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 200 {
		cw, ch := 3+rng.IntN(80), 3+rng.IntN(80)
		if i%25 == 0 {
			cw = 480 + rng.IntN(60) // more taps than resample's stack buffers hold
		}
		crop := make([]float32, cw*ch)
		// Every third crop has its ink in a part of each row only (a digit's top and bottom rows), where
		// resample leaves out the columns beside the ink.
		part := i%3 == 1
		for y := range ch {
			x0, x1 := 0, cw
			if part {
				x0 = rng.IntN(cw)
				x1 = x0 + rng.IntN(cw-x0+1)
			}
			for x := x0; x < x1; x++ {
				if rng.IntN(3) == 0 {
					crop[y*cw+x] = rng.Float32()
				}
			}
		}
		s := (0.2 + 1.5*rng.Float64()) * 20 / float64(max(cw, ch))
		var a, b [784]float32
		resample(crop, cw, ch, s, a[:])
		resampleRows(crop, cw, ch, s, b[:])
		if a != b {
			t.Fatalf("%dx%d at %.3f: resample differs from the row-by-row reference", cw, ch, s)
		}
	}
}

// resampleRows is the row-by-row reference for resample.
func resampleRows(crop []float32, cw, ch int, s float64, out []float32) {
	xw := boxWeights(cw, s)
	yw := boxWeights(ch, s)
	tmp := make([]float32, ch*side)
	for y := 0; y < ch; y++ {
		row := crop[y*cw : (y+1)*cw]
		for u, ws := range xw {
			var acc float32
			for i, wt := range ws.w {
				acc += wt * row[ws.first+i]
			}
			tmp[y*side+u] = acc
		}
	}
	for v, ws := range yw {
		for u := 0; u < side; u++ {
			var acc float32
			for i, wt := range ws.w {
				acc += wt * tmp[(ws.first+i)*side+u]
			}
			out[v*side+u] = acc
		}
	}
}

func BenchmarkResample(b *testing.B) {
	crop := make([]float32, 42*40)
	for i := range crop {
		crop[i] = float32(i%7) / 7
	}
	var out [784]float32
	for b.Loop() {
		resample(crop, 42, 40, 0.5, out[:])
	}
}
