package ink_test

import (
	"math"
	"testing"

	"digitpad/shared/ink"
)

func TestInputByte_RoundsHalfUpAndClamps(t *testing.T) {
	for _, tc := range []struct {
		v    float32
		want uint8
	}{
		{0, 0}, {1, 255}, {0.5, 128}, {-3, 0}, {7, 255}, {float32(math.NaN()), 0},
		{float32(math.Inf(1)), 255}, {float32(math.Inf(-1)), 0},
		// Half-way points: 0.5/255 rounds up to 1 (float64 math.Round of the float32 value gave 0 here).
		{0.0019607842, 1}, {1.5 / 255, 2}, {0.0019607, 0},
		{254.5 / 255, 255}, {100.0 / 255, 100},
	} {
		if got := ink.InputByte(tc.v); got != tc.want {
			t.Errorf("InputByte(%v) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

// InputImage (the input PNGs) rounds with InputByte, so an input PNG and a feedback record hold the same bytes.
func TestInputImage_UsesInputByte(t *testing.T) {
	var in [784]float32
	for i := range in {
		in[i] = float32(i) / 783
	}
	in[5] = 0.0019607842
	g := ink.InputImage(&in)
	for i, v := range in {
		if g.Pix[i] != ink.InputByte(v) {
			t.Fatalf("pixel %d of %v = %d, want InputByte's %d", i, v, g.Pix[i], ink.InputByte(v))
		}
	}
}
