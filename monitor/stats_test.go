package monitor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestKS_SameDistributionIsSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref := make([]float64, 5000)
	for i := range ref {
		ref[i] = rng.NormFloat64()
	}
	d := newDist(ref)
	var worst float64
	for range 50 {
		s := make([]float64, 1000)
		for i := range s {
			s[i] = rng.NormFloat64()
		}
		worst = math.Max(worst, d.ks(s))
	}
	if worst > 0.07 {
		t.Errorf("KS of same-distribution samples up to %.3f, want < 0.07", worst)
	}
	s := make([]float64, 1000)
	for i := range s {
		s[i] = rng.NormFloat64() + 0.3
	}
	if D := d.ks(s); D < 0.08 {
		t.Errorf("KS of a shifted sample %.3f, want > 0.08", D)
	}
}
