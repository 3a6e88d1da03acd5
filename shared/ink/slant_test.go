package ink_test

import (
	"math"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

// The slant estimate follows the hand on a code and stays upright for upright writing and for a lone digit.
func TestEstimateSlant_FollowsTheHand(t *testing.T) {
	for _, tt := range []struct {
		text  string
		slant float64
		want  float64 // 0: upright (below the slant the layout uses or too narrow to tell)
	}{
		{"40617", 0, 0},
		{"40617", 0.3, 0},
		{"40617", 0.8, 0.8},
		{"28390", 0.8, 0.8},
		{"40617", -0.7, -0.7},
		{"2", 0.8, 0},
	} {
		for seed := uint64(1); seed <= 3; seed++ {
			p := synth.Defaults()
			p.Seed, p.Height, p.Slant, p.Jitter = seed, 100, tt.slant, 0.3
			p, err := synth.Fit(tt.text, p, 900, 200)
			if err != nil {
				t.Fatal(err)
			}
			c, err := synth.Write(tt.text, p)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ink.MaskFromStrokesOpt(c.Strokes, 900, 200, ink.Options{PenWidth: 6})
			if err != nil {
				t.Fatal(err)
			}
			got := ink.EstimateSlant(m)
			if math.Abs(got-tt.want) > 0.15 {
				t.Errorf("%s slant %.1f seed %d: estimate %.2f, want %.1f", tt.text, tt.slant, seed, got, tt.want)
			}
		}
	}
}
