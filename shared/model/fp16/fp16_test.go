package fp16_test

import (
	"math"
	"testing"

	"digitpad/shared/model/fp16"
)

func TestFromFloat32_EdgeCases(t *testing.T) {
	cases := []struct {
		name string
		in   float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"largest normal", 65504, 0x7bff},
		{"rounds up to infinity", 65520, 0x7c00},
		{"just below the overflow tie stays finite", 65519.99, 0x7bff},
		{"overflow", 1e6, 0x7c00},
		{"negative overflow", -1e6, 0xfc00},
		{"infinity", float32(math.Inf(1)), 0x7c00},
		{"minus infinity", float32(math.Inf(-1)), 0xfc00},
		{"smallest normal", 6.103515625e-05, 0x0400},
		{"largest subnormal", 6.097555160522461e-05, 0x03ff},
		{"smallest subnormal", 5.960464477539063e-08, 0x0001},
		{"half the smallest subnormal ties to even zero", 2.9802322387695312e-08, 0x0000},
		{"just above half the smallest subnormal", 2.99e-08, 0x0001},
		{"float32 subnormal underflows", 1e-40, 0x0000},
		{"tie between 1 and next rounds to even (down)", 1 + 1.0/2048, 0x3c00},
		{"tie between next and next+1 rounds to even (up)", 1 + 3.0/2048, 0x3c02},
		{"above the tie rounds up", 1 + 1.0/2048 + 1.0/65536, 0x3c01},
		{"mantissa carry bumps the exponent", 2 - 1.0/4096, 0x4000},
		{"subnormal tie rounds to even", 1.5 * 5.960464477539063e-08, 0x0002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := fp16.FromFloat32(tc.in); got != tc.want {
				t.Errorf("FromFloat32(%v) = %#04x, want %#04x", tc.in, got, tc.want)
			}
		})
	}
}

func TestFromFloat32_NaNStaysNaN(t *testing.T) {
	for _, f := range []float32{float32(math.NaN()), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc00000)} {
		h := fp16.FromFloat32(f)
		if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
			t.Errorf("FromFloat32(NaN %#08x) = %#04x, want a NaN", math.Float32bits(f), h)
		}
		if !math.IsNaN(float64(fp16.ToFloat32(h))) {
			t.Errorf("ToFloat32(%#04x) is not NaN", h)
		}
	}
}

// Every half value converts to float32 and back unchanged (NaNs stay NaNs).
func TestRoundTrip_AllHalfValues(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := fp16.ToFloat32(uint16(h))
		if math.IsNaN(float64(f)) {
			if g := fp16.FromFloat32(f); g&0x7c00 != 0x7c00 || g&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, g)
			}
			continue
		}
		if g := fp16.FromFloat32(f); g != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, g)
		}
	}
}

// FromFloat32 picks the nearest half: no half value lies strictly closer to the input.
func TestFromFloat32_IsNearest(t *testing.T) {
	for i := 0; i < 200000; i++ {
		f := math.Float32frombits(uint32(i)*21467 + 0x33000000) // sweeps magnitudes from 3e-8 upwards
		if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) || math.Abs(float64(f)) >= 65520 {
			continue
		}
		h := fp16.FromFloat32(f)
		got := math.Abs(float64(fp16.ToFloat32(h)) - float64(f))
		for _, n := range []uint16{h - 1, h + 1} {
			if n&0x7c00 == 0x7c00 {
				continue
			}
			if d := math.Abs(float64(fp16.ToFloat32(n)) - float64(f)); d < got {
				t.Fatalf("FromFloat32(%v) = %#04x (error %g) but %#04x is closer (error %g)", f, h, got, n, d)
			}
		}
	}
}
