package quantize

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestQuantizeWeights_RoundTripWithinHalfAStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		dims []int64
		axis int
	}{
		{"conv weights, per output channel", []int64{6, 3, 5, 5}, 0},
		{"matmul weights, per column", []int64{40, 7}, 1},
		{"single channel", []int64{1, 1, 3, 3}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 1
			for _, d := range tc.dims {
				n *= int(d)
			}
			w := make([]float32, n)
			for i := range w {
				w[i] = float32(rng.NormFloat64()) * float32(1+i%3) // channels of different ranges
			}
			q, scales := quantizeWeights(w, tc.dims, tc.axis)
			ch := int(tc.dims[tc.axis])
			if len(scales) != ch {
				t.Fatalf("%d scales, want %d", len(scales), ch)
			}
			inner := n / ch
			if tc.axis == 1 {
				inner = 1
			}
			peak := make([]int, ch)
			for i, v := range w {
				c := (i / inner) % ch
				got := float64(q[i]) * float64(scales[c])
				if d := math.Abs(got - float64(v)); d > float64(scales[c])/2*(1+1e-6) {
					t.Fatalf("w[%d] = %v comes back as %v (scale %v): error %v > scale/2", i, v, got, scales[c], d)
				}
				if q[i] < -127 || q[i] > 127 {
					t.Fatalf("q[%d] = %d outside the symmetric range", i, q[i])
				}
				peak[c] = max(peak[c], int(math.Abs(float64(q[i]))))
			}
			for c, p := range peak {
				if p != 127 {
					t.Errorf("channel %d peaks at %d, want 127 (scale = max|w|/127)", c, p)
				}
			}
		})
	}
}

func TestQuantizeWeights_ZeroChannelGetsAValidScale(t *testing.T) {
	q, scales := quantizeWeights([]float32{0, 0, 1, -2}, []int64{2, 2}, 0)
	if scales[0] != 1 || q[0] != 0 || q[1] != 0 {
		t.Errorf("all-zero channel: scale %v, q %v; want scale 1 and zeros", scales[0], q[:2])
	}
	if want := float32(2.0 / 127); scales[1] != want {
		t.Errorf("scale[1] = %v, want %v", scales[1], want)
	}
}

func TestActivationParams(t *testing.T) {
	cases := []struct {
		name      string
		lo, hi    float32
		wantScale float32
		wantZP    uint8
	}{
		{"non-negative (after ReLU) uses zero point 0", 0, 6.375, 0.025, 0},
		{"input pixels 0..1", 0, 1, 1.0 / 255, 0},
		{"range not containing 0 is widened to include it", 2, 4, 4.0 / 255, 0},
		{"signed range keeps 0 exact", -1, 3, 4.0 / 255, 64},
		{"all zero", 0, 0, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := activationParams(tc.lo, tc.hi)
			if math.Abs(float64(a.Scale-tc.wantScale)) > 1e-7 || a.ZeroPoint != tc.wantZP {
				t.Errorf("activationParams(%v, %v) = scale %v zp %d, want %v and %d", tc.lo, tc.hi, a.Scale, a.ZeroPoint, tc.wantScale, tc.wantZP)
			}
			// Values in range round-trip within half a step.
			for i := 0; i <= 20; i++ {
				x := min(tc.lo, 0) + (max(tc.hi, 0)-min(tc.lo, 0))*float32(i)/20
				q := math.Max(0, math.Min(255, math.RoundToEven(float64(x/a.Scale))+float64(a.ZeroPoint)))
				back := (q - float64(a.ZeroPoint)) * float64(a.Scale)
				if d := math.Abs(back - float64(x)); d > float64(a.Scale)/2*(1+1e-5) {
					t.Fatalf("x = %v comes back as %v", x, back)
				}
			}
		})
	}
}
