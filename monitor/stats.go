package monitor

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// nQuantiles is how many quantiles (0%, 1%, ..., 100%) summarise a reference distribution.
const nQuantiles = 101

// Dist summarises a reference distribution of one number: its percentiles (for Kolmogorov–Smirnov) and decile
// bins with the reference share in each (for the population stability index).
type Dist struct {
	Quantiles []float64 `json:"quantiles"`
	// Edges are the inner bin edges (a value v falls in bin i when Edges[i-1] < v <= Edges[i]); Shares has one
	// more entry than Edges.
	Edges  []float64 `json:"psi_edges"`
	Shares []float64 `json:"psi_shares"`
}

// newDist summarises values (modified: sorted).
func newDist(values []float64) Dist {
	slices.Sort(values)
	d := Dist{Quantiles: make([]float64, nQuantiles)}
	for i := range d.Quantiles {
		d.Quantiles[i] = round6(stat.Quantile(float64(i)/float64(nQuantiles-1), stat.Empirical, values, nil))
	}
	for i := 1; i < 10; i++ {
		e := d.Quantiles[i*10]
		if len(d.Edges) == 0 || e > d.Edges[len(d.Edges)-1] {
			d.Edges = append(d.Edges, e)
		}
	}
	d.Shares = binShares(d.Edges, values)
	return d
}

// binShares returns the share of values in each PSI bin.
func binShares(edges, values []float64) []float64 {
	sh := make([]float64, len(edges)+1)
	for _, v := range values {
		sh[sort.SearchFloat64s(edges, v)]++
	}
	for i := range sh {
		sh[i] /= float64(max(1, len(values)))
	}
	return sh
}

// cdf is the reference CDF at x (right-continuous), interpolated linearly between percentiles.
func (d *Dist) cdf(x float64) float64 {
	q := d.Quantiles
	k := sort.Search(len(q), func(i int) bool { return q[i] > x }) - 1 // last q[k] <= x
	return interp(q, k, x)
}

// cdfLeft is the limit of the CDF from the left at x.
func (d *Dist) cdfLeft(x float64) float64 {
	q := d.Quantiles
	k := sort.Search(len(q), func(i int) bool { return q[i] >= x }) - 1 // last q[k] < x
	return interp(q, k, x)
}

func interp(q []float64, k int, x float64) float64 {
	n := float64(len(q) - 1)
	switch {
	case k < 0:
		return 0
	case k >= len(q)-1:
		return 1
	}
	return (float64(k) + (x-q[k])/(q[k+1]-q[k])) / n
}

// ks is the Kolmogorov–Smirnov distance between the sample (sorted in place) and the reference, with ties in
// either handled exactly (the sup is taken at both one-sided limits of every sample value).
func (d *Dist) ks(sample []float64) float64 {
	slices.Sort(sample)
	n := float64(len(sample))
	D := 0.0
	for i := 0; i < len(sample); {
		j := i
		for j < len(sample) && sample[j] == sample[i] {
			j++
		}
		v := sample[i]
		D = max(D, math.Abs(float64(j)/n-d.cdf(v)), math.Abs(float64(i)/n-d.cdfLeft(v)))
		i = j
	}
	return D
}

// psi is the population stability index of the sample against the reference bins.
func (d *Dist) psi(sample []float64) float64 {
	w := binShares(d.Edges, sample)
	const eps = 1e-4
	s := 0.0
	for i, r := range d.Shares {
		a, b := max(w[i], eps), max(r, eps)
		s += (a - b) * math.Log(a/b)
	}
	return s
}

// ksPValue is the asymptotic one-sample Kolmogorov–Smirnov p-value of distance D with n samples (Stephens' small-n
// correction of the Kolmogorov distribution).
func ksPValue(D float64, n int) float64 {
	if n <= 0 || D <= 0 {
		return 1
	}
	sn := math.Sqrt(float64(n))
	lambda := (sn + 0.12 + 0.11/sn) * D
	if lambda < 0.2 {
		return 1
	}
	p := 0.0
	for k := 1; k <= 100; k++ {
		term := 2 * math.Pow(-1, float64(k-1)) * math.Exp(-2*float64(k*k)*lambda*lambda)
		p += term
		if math.Abs(term) < 1e-12 {
			break
		}
	}
	return min(1, max(0, p))
}

// chiSquare is the two-sample chi-squared test of window class counts against the reference's (shares times its
// digit count, so the reference's own sampling noise is accounted for): the statistic and its p-value (9 degrees
// of freedom; classes empty in both are skipped).
func chiSquare(counts [10]int, ref [10]float64, refN int) (float64, float64) {
	n := 0
	for _, c := range counts {
		n += c
	}
	if n == 0 || refN == 0 {
		return 0, 1
	}
	N := float64(n + refN)
	x := 0.0
	for i, c := range counts {
		r := ref[i] * float64(refN)
		col := float64(c) + r
		if col == 0 {
			continue
		}
		e1, e2 := col*float64(n)/N, col*float64(refN)/N
		x += (float64(c)-e1)*(float64(c)-e1)/e1 + (r-e2)*(r-e2)/e2
	}
	return x, distuv.ChiSquared{K: 9}.Survival(x)
}

// jensenShannon is the Jensen–Shannon divergence (base 2, 0..1) between window class shares and the reference.
func jensenShannon(counts [10]int, ref [10]float64) float64 {
	n := 0
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0
	}
	js := 0.0
	for i, c := range counts {
		p := float64(c) / float64(n)
		q := ref[i]
		m := (p + q) / 2
		if p > 0 {
			js += 0.5 * p * math.Log2(p/m)
		}
		if q > 0 {
			js += 0.5 * q * math.Log2(q/m)
		}
	}
	return max(0, js)
}

// mmd computes the (biased, V-statistic) squared maximum mean discrepancy between x and y with a Gaussian kernel
// of bandwidth sigma, and a permutation p-value from perms random relabellings of the pooled sample (the share of
// permutations, counting the observed one, whose MMD is at least the observed).
func mmd(x, y [][]float64, sigma float64, perms int, rng *rand.Rand) (float64, float64) {
	n, m := len(x), len(y)
	if n == 0 || m == 0 {
		return 0, 1
	}
	all := append(slices.Clone(x), y...)
	N := n + m
	k := make([]float64, N*N)
	g := -1 / (2 * sigma * sigma)
	for i := 0; i < N; i++ {
		k[i*N+i] = 1
		for j := i + 1; j < N; j++ {
			d := 0.0
			for t, v := range all[i] {
				e := v - all[j][t]
				d += e * e
			}
			v := math.Exp(g * d)
			k[i*N+j], k[j*N+i] = v, v
		}
	}
	total := 0.0
	for _, v := range k {
		total += v
	}
	mask := make([]float64, N)
	for i := range n {
		mask[i] = 1
	}
	stat := mmdMasked(k, N, mask, n, total)
	if perms <= 0 {
		return stat, math.NaN()
	}
	ge := 1
	for range perms {
		rng.Shuffle(N, func(i, j int) { mask[i], mask[j] = mask[j], mask[i] })
		if mmdMasked(k, N, mask, n, total) >= stat {
			ge++
		}
	}
	return stat, float64(ge) / float64(perms+1)
}

// mmdMasked is MMD² for the split of the pooled sample into mask = 1 (n of them) and the rest, from the kernel
// matrix k (N×N) and the sum of all its entries.
func mmdMasked(k []float64, N int, mask []float64, n int, total float64) float64 {
	var xx, xy float64
	for i := range N {
		row := k[i*N : (i+1)*N]
		s := 0.0
		for j, v := range row {
			s += v * mask[j]
		}
		if mask[i] == 1 {
			xx += s
		} else {
			xy += s
		}
	}
	yy := total - xx - 2*xy
	fn, fm := float64(n), float64(N-n)
	return xx/(fn*fn) + yy/(fm*fm) - 2*xy/(fn*fm)
}

// Wilson is a Wilson score interval for a proportion.
type Wilson struct {
	Rate float64 `json:"rate"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	N    int     `json:"n"`
}

// wilson returns the 95% Wilson score interval of k successes in n trials (NaN rate for n = 0).
func wilson(k, n int) Wilson {
	if n == 0 {
		return Wilson{Rate: math.NaN(), Low: 0, High: 1}
	}
	const z = 1.959963984540054
	p := float64(k) / float64(n)
	fn := float64(n)
	den := 1 + z*z/fn
	c := (p + z*z/(2*fn)) / den
	h := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / den
	return Wilson{Rate: p, Low: max(0, c-h), High: min(1, c+h), N: n}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
