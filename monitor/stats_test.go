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

// TestMMD_MatchesPlainComputation checks the cached-block MMD against the textbook V-statistic over the pooled
// kernel matrix, for windows smaller and larger than the reference, with kernel rows cached or not.
func TestMMD_MatchesPlainComputation(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	gen := func(n int, shift float64) [][]float64 {
		out := make([][]float64, n)
		for i := range out {
			out[i] = []float64{rng.NormFloat64() + shift, rng.NormFloat64(), rng.NormFloat64()}
		}
		return out
	}
	plain := func(x, y [][]float64, sigma float64) float64 {
		k := func(a, b []float64) float64 { return math.Exp(-sqDist(a, b) / (2 * sigma * sigma)) }
		var xx, yy, xy float64
		for _, a := range x {
			for _, b := range x {
				xx += k(a, b)
			}
			for _, b := range y {
				xy += k(a, b)
			}
		}
		for _, a := range y {
			for _, b := range y {
				yy += k(a, b)
			}
		}
		n, m := float64(len(x)), float64(len(y))
		return xx/(n*n) + yy/(m*m) - 2*xy/(n*m)
	}
	y := gen(60, 0)
	ref := newMMDRef(y, 1.3)
	var w mmdWork
	for _, n := range []int{20, 60, 90} {
		x := gen(n, 0.3)
		var rows [][]float32
		for _, v := range x[:n/2] { // half cached, half computed on the fly
			rows = append(rows, ref.row(v))
		}
		got, _ := ref.test(x, rows, 0, nil, &w)
		if want := plain(x, y, 1.3); math.Abs(got-want) > 1e-6 {
			t.Errorf("n = %d: MMD² = %.8f, plain computation %.8f", n, got, want)
		}
	}
}

// TestMMD_SequentialPValue checks Besag–Clifford stopping on windows like the reference: p-values spread over
// (0, 1] (mean near 1/2), few below 0.05, and an early stop always reports p = seqStop/L >= 0.1.
func TestMMD_SequentialPValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	gen := func(n int, shift float64) [][]float64 {
		out := make([][]float64, n)
		for i := range out {
			out[i] = []float64{rng.NormFloat64() + shift, rng.NormFloat64()}
		}
		return out
	}
	ref := newMMDRef(gen(100, 0), 1.4)
	const windows = 40
	low, sum := 0, 0.0
	var w mmdWork
	for range windows {
		_, p := ref.test(gen(100, 0), nil, 100, rng, &w)
		sum += p
		if p < 0.05 {
			low++
		}
		// Stopped early: p = 10/L with L < 100; ran out: (ge+1)/101 with ge < 10.
		if L := float64(seqStop) / p; p >= 0.1 && math.Abs(L-math.Round(L)) > 1e-9 && p*101 > float64(seqStop)+0.5 {
			t.Errorf("p = %v is neither %d/L nor (ge+1)/101", p, seqStop)
		}
	}
	if mean := sum / windows; mean < 0.3 || mean > 0.7 {
		t.Errorf("mean p-value %.3f over windows like the reference, want about 0.5", mean)
	}
	if low > 6 { // P(X > 6) = 1.4% for Binomial(40, 0.05)
		t.Errorf("%d of %d windows like the reference have p < 0.05", low, windows)
	}
}
