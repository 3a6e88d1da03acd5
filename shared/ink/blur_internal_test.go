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
		for p := range a {
			if rng.IntN(3) == 0 {
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
