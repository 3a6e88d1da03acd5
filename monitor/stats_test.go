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

func TestIsotonic(t *testing.T) {
	got := isotonic([]float64{0.5, 0.2, 0.9, 0.8, 1}, []float64{1, 1, 1, 3, 1})
	want := []float64{0.35, 0.35, 0.825, 0.825, 1}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("isotonic = %v, want %v", got, want)
		}
	}
}

func TestWilson(t *testing.T) {
	w := wilson(81, 100)
	// Known 95% Wilson interval for 81/100: 0.7222 .. 0.8749.
	if math.Abs(w.Low-0.7222) > 1e-3 || math.Abs(w.High-0.8749) > 1e-3 {
		t.Errorf("wilson(81,100) = %+v", w)
	}
	if w := wilson(0, 10); w.Low != 0 || w.High < 0.25 || w.High > 0.35 {
		t.Errorf("wilson(0,10) = %+v", w)
	}
}

func TestChiSquareAndJS(t *testing.T) {
	ref := [10]float64{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1}
	same := [10]int{10, 10, 10, 10, 10, 10, 10, 10, 10, 10}
	if x, p := chiSquare(same, ref, 1000); x > 1e-9 || p < 0.999 {
		t.Errorf("chi2 of the reference mix = %v, p %v", x, p)
	}
	skew := [10]int{55, 5, 5, 5, 5, 5, 5, 5, 5, 5}
	if _, p := chiSquare(skew, ref, 1000); p > 1e-6 {
		t.Errorf("chi2 p of a skewed mix = %v", p)
	}
	if js := jensenShannon(skew, ref); js < 0.1 || js > 1 {
		t.Errorf("JS of a skewed mix = %v", js)
	}
}

func TestMMD_PermutationPValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gen := func(n int, shift float64) [][]float64 {
		out := make([][]float64, n)
		for i := range out {
			out[i] = []float64{rng.NormFloat64() + shift, rng.NormFloat64()}
		}
		return out
	}
	ref := gen(100, 0)
	if _, p := mmd(gen(100, 0), ref, 1.4, 100, rng); p < 0.01 {
		t.Errorf("same distribution: p = %v", p)
	}
	if _, p := mmd(gen(100, 1), ref, 1.4, 100, rng); p > 0.02 {
		t.Errorf("shifted by 1 sd: p = %v", p)
	}
}
