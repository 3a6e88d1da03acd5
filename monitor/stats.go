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

// mmdRef is the reference side of the MMD test, computed once per profile: the sample, the Gaussian kernel's
// exponent factor -1/(2σ²) and the kernel among the sample's vectors (m×m), which every window's test reuses.
type mmdRef struct {
	y   [][]float64
	g   float64
	kyy []float32
}

func newMMDRef(y [][]float64, sigma float64) *mmdRef {
	r := &mmdRef{y: y, g: -1 / (2 * sigma * sigma)}
	m := len(y)
	r.kyy = make([]float32, m*m)
	for i := range m {
		r.kyy[i*m+i] = 1
		for j := i + 1; j < m; j++ {
			v := float32(math.Exp(r.g * sqDist(y[i], y[j])))
			r.kyy[i*m+j], r.kyy[j*m+i] = v, v
		}
	}
	return r
}

// row is the kernel between x and each reference vector: computed once per digit when it is monitored, so a
// window's test only computes the kernel among the window's own digits.
func (r *mmdRef) row(x []float64) []float32 {
	out := make([]float32, len(r.y))
	for j, y := range r.y {
		out[j] = float32(math.Exp(r.g * sqDist(x, y)))
	}
	return out
}

// mmdWork is scratch space reused between tests (the pooled kernel matrix and index buffers) and the last
// statistic computed, which a test of the same window's vectors reuses (a stream's time window usually holds the
// count window's most recent digits).
type mmdWork struct {
	k    []float32
	rows []float64
	idx  []int

	lastX    [][]float64 // the vectors of the last window tested (kept alive, so identity means the same vector)
	lastStat float64
}

// same reports whether x holds the very vectors of the last window tested, in order.
func (w *mmdWork) same(x [][]float64) bool {
	if len(x) != len(w.lastX) {
		return false
	}
	for i, v := range x {
		if len(v) == 0 || len(v) != len(w.lastX[i]) || &v[0] != &w.lastX[i][0] {
			return false
		}
	}
	return true
}

// seqStop is h of Besag & Clifford's sequential permutation p-value: permutations stop once h of them reach the
// observed statistic, with p = h/L after L permutations (a valid p-value; ≥ 10/100 here, so the verdict at
// p < 0.05 is the one all permutations would give). Windows like the reference stop after a few dozen
// permutations instead of 100; a window that drifts runs all of them and gets (ge+1)/(perms+1).
const seqStop = 10

// test computes the (biased, V-statistic) squared maximum mean discrepancy between the window's vectors x and the
// reference sample, and a permutation p-value from up to perms random relabellings of the pooled sample. kx holds
// x's kernel rows against the reference (see row; nil or nil entries are computed here). The pooled kernel
// matrix is filled from the cached blocks; each permutation then sums the kernel over the smaller group only
// (s² terms, with the pooled row sums giving the cross and other-group sums) instead of the whole N² matrix.
func (r *mmdRef) test(x [][]float64, kx [][]float32, perms int, rng *rand.Rand, w *mmdWork) (float64, float64) {
	n, m := len(x), len(r.y)
	if n == 0 || m == 0 {
		return 0, 1
	}
	if w == nil {
		w = &mmdWork{}
	}
	if perms <= 0 && w.same(x) {
		return w.lastStat, math.NaN()
	}
	N := n + m
	if cap(w.k) < N*N {
		w.k = make([]float32, N*N)
	}
	k := w.k[:N*N]
	for i := range n {
		k[i*N+i] = 1
		for j := i + 1; j < n; j++ {
			v := float32(math.Exp(r.g * sqDist(x[i], x[j])))
			k[i*N+j], k[j*N+i] = v, v
		}
		var row []float32
		if i < len(kx) {
			row = kx[i]
		}
		if len(row) != m {
			row = r.row(x[i])
		}
		for j, v := range row {
			k[i*N+n+j], k[(n+j)*N+i] = v, v
		}
	}
	for i := range m {
		copy(k[(n+i)*N+n:(n+i+1)*N], r.kyy[i*m:(i+1)*m])
	}
	if cap(w.rows) < N {
		w.rows = make([]float64, N)
	}
	rows := w.rows[:N]
	total := 0.0
	for i := range N {
		s := 0.0
		for _, v := range k[i*N : (i+1)*N] {
			s += float64(v)
		}
		rows[i] = s
		total += s
	}
	if cap(w.idx) < N {
		w.idx = make([]int, N)
	}
	idx := w.idx[:N]
	for i := range idx {
		idx[i] = i
	}
	// The statistic is symmetric in the two groups; permutations draw the smaller one.
	s := min(n, m)
	if n > m { // the reference group first: indexes n..N-1
		for i := range m {
			idx[i] = n + i
		}
		for i := range n {
			idx[m+i] = i
		}
	}
	stat := mmdSplit(k, N, rows, total, idx[:s])
	w.lastX, w.lastStat = append(w.lastX[:0], x...), stat
	if perms <= 0 {
		return stat, math.NaN()
	}
	ge := 0
	for b := 1; b <= perms; b++ {
		for i := range s { // a uniform random s-subset: a partial Fisher–Yates shuffle
			j := i + rng.IntN(N-i)
			idx[i], idx[j] = idx[j], idx[i]
		}
		if mmdSplit(k, N, rows, total, idx[:s]) >= stat {
			ge++
			if ge == seqStop && b < perms {
				return stat, float64(ge) / float64(b)
			}
		}
	}
	return stat, float64(ge+1) / float64(perms+1)
}

// mmdSplit is MMD² between the group g (indexes into the pooled sample) and the rest, from the pooled kernel
// matrix k (N×N), its row sums and their total.
func mmdSplit(k []float32, N int, rows []float64, total float64, g []int) float64 {
	// The kernel is symmetric with ones on its diagonal: sum the pairs a < b once.
	var half, gr float64
	for i, a := range g {
		row := k[a*N : (a+1)*N]
		for _, b := range g[i+1:] {
			half += float64(row[b])
		}
		gr += rows[a]
	}
	gg := float64(len(g)) + 2*half
	cross := gr - gg // sum over g × rest
	rest := total - gg - 2*cross
	fg, fr := float64(len(g)), float64(N-len(g))
	return gg/(fg*fg) + rest/(fr*fr) - 2*cross/(fg*fr)
}

// mmd is the MMD test of x against y with bandwidth sigma (see mmdRef.test), for one-off use.
func mmd(x, y [][]float64, sigma float64, perms int, rng *rand.Rand) (float64, float64) {
	return newMMDRef(y, sigma).test(x, nil, perms, rng, nil)
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

// WilsonInterval is the 95% Wilson score interval of k successes in n trials.
func WilsonInterval(k, n int) Wilson { return wilson(k, n) }
