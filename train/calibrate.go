package train

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"digitpad/shared/recognize"
)

// FitTemperature returns the temperature T that minimises the negative log-likelihood of the labels under
// the tempered probabilities p_i^(1/T) (renormalised): temperature scaling (Guo et al. 2017) on probabilities,
// which is the same as dividing the logits by T. probs holds 10 per sample. A golden-section search over
// log T in [0.2, 5].
func FitTemperature(probs []float32, labels []uint8) (float64, error) {
	n := len(labels)
	if n == 0 || len(probs) != 10*n {
		return 0, errors.New("train: temperature: need 10 probabilities per label")
	}
	logs := make([]float64, len(probs))
	for i, p := range probs {
		logs[i] = math.Log(math.Max(float64(p), 1e-30))
	}
	nll := func(logT float64) float64 {
		inv := math.Exp(-logT)
		sum := 0.0
		for s := 0; s < n; s++ {
			l := logs[s*10 : s*10+10]
			mx := slices.Max(l) * inv
			z := 0.0
			for _, v := range l {
				z += math.Exp(v*inv - mx)
			}
			sum += mx + math.Log(z) - l[labels[s]]*inv
		}
		return sum / float64(n)
	}
	a, b := math.Log(0.2), math.Log(5)
	g := (math.Sqrt(5) - 1) / 2
	c, d := b-g*(b-a), a+g*(b-a)
	fc, fd := nll(c), nll(d)
	for b-a > 1e-4 {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - g*(b-a)
			fc = nll(c)
		} else {
			a, c, fc = c, d, fd
			d = a + g*(b-a)
			fd = nll(d)
		}
	}
	return math.Exp((a + b) / 2), nil
}

// Reading is what the confirm policy sees of one recognised code: its confidence (the product of its digits'
// confirm scores, which recognize.ConfirmDigits compares with the threshold: recognize.Result.Confidence
// without a confirm model; Rescore sets it for one), whether the code broke its format (always asked), and
// whether it was right. Doubts are its digits' features (recognize.Doubts) that FitConfirm fits the confirm
// model on. MinConfidence, the lowest digit confidence, is what the per-digit rule before it compared (kept to
// measure the rules side by side).
type Reading struct {
	Confidence    float64
	MinConfidence float64
	FormatError   bool
	Correct       bool
	Doubts        []recognize.Doubt
}

// Rescore is the readings with their confidence recomputed as the product of their digits' confirm scores under
// m: the risk–coverage curve of that confirm model.
func Rescore(rs []Reading, m recognize.ConfirmModel) []Reading {
	out := slices.Clone(rs)
	for i := range out {
		if out[i].Doubts == nil {
			continue
		}
		p := 1.0
		for _, d := range out[i].Doubts {
			p *= m.Score(d)
		}
		out[i].Confidence = p
	}
	return out
}

// confirmL2 is the ridge penalty of FitConfirm's logistic regression (per weight, summed over the codes' log
// loss): small, it only keeps the fit finite when a feature separates the codes.
const confirmL2 = 0.1

// FitConfirm fits the confirm model (recognize.ConfirmModel) on readings of validation codes with their format:
// a logistic regression of "the code is right" on the sums over its digits of ln confidence (digits the pair
// reader read apart), shortness and shortness of digits read as 1 (Newton's method, ridge confirmL2). The
// model's weights are the other weights divided by the ln-confidence weight, so a digit's score stays on the
// scale of its confidence and the code's score (their product) is a monotone function of the fitted probability
// that the code is right. With edge, the count of its digits at the canvas's edge (recognize.Doubt.Edge) is a
// feature too (ConfirmModel.Edge; 0 without). Weights that come out negative (shortness making a code more likely right, a pair
// digit's confidence making it less likely) are left at 0. Readings that broke their format (always asked) or
// have no doubts take no part.
func FitConfirm(rs []Reading, edge bool) (recognize.ConfirmModel, error) {
	var xs [][]float64
	var ys []float64
	right := 0
	for _, r := range rs {
		if r.FormatError || len(r.Doubts) == 0 {
			continue
		}
		x := make([]float64, 5, 6)
		x[0] = 1
		if edge {
			x = append(x, 0)
		}
		for _, d := range r.Doubts {
			lc := math.Log(max(d.Confidence, 1e-12))
			if d.Pair {
				x[4] += lc
			} else {
				x[1] += lc
			}
			x[2] -= d.Short
			if d.One {
				x[3] -= d.Short
			}
			if edge && d.Edge {
				x[5]--
			}
		}
		y := 0.0
		if r.Correct {
			y = 1
			right++
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	if right == 0 || right == len(xs) {
		return recognize.ConfirmModel{}, fmt.Errorf("train: confirm model: need right and wrong codes (%d of %d right)", right, len(xs))
	}
	w, err := fitLogistic(xs, ys, confirmL2)
	if err != nil {
		return recognize.ConfirmModel{}, fmt.Errorf("train: confirm model: %w", err)
	}
	if w[1] <= 0 {
		return recognize.ConfirmModel{}, fmt.Errorf("train: confirm model: confidence weight %.3g is not positive", w[1])
	}
	m := recognize.ConfirmModel{Short: max(0, w[2]/w[1]), ShortOne: max(0, w[3]/w[1])}
	if hasPair(rs) {
		m.Pair = 1 - max(0, w[4]/w[1])
	}
	if edge {
		m.Edge = max(0, w[5]/w[1])
	}
	return m, nil
}

// hasPair reports whether a reading has a digit the pair reader read (else FitConfirm leaves the pair weight 0,
// which its ridge penalty would otherwise set).
func hasPair(rs []Reading) bool {
	for _, r := range rs {
		for _, d := range r.Doubts {
			if d.Pair && !r.FormatError {
				return true
			}
		}
	}
	return false
}

// fitLogistic is the ridge logistic regression of ys (0 or 1) on xs (all of one length, the first component
// the bias, not penalised) by Newton's method.
func fitLogistic(xs [][]float64, ys []float64, l2 float64) ([]float64, error) {
	d := len(xs[0])
	w := make([]float64, d)
	for range 100 {
		g := make([]float64, d)
		h := make([][]float64, d) // Hessian with the gradient as its last column
		for a := range h {
			h[a] = make([]float64, d+1)
		}
		for i, x := range xs {
			z := 0.0
			for a := range x {
				z += w[a] * x[a]
			}
			p := 1 / (1 + math.Exp(-z))
			for a := range x {
				g[a] += (p - ys[i]) * x[a]
				for b := range x {
					h[a][b] += p * (1 - p) * x[a] * x[b]
				}
			}
		}
		for a := 1; a < d; a++ {
			g[a] += l2 * w[a]
			h[a][a] += l2
		}
		for a := range g {
			h[a][d] = g[a]
		}
		step, ok := solve(h)
		if !ok {
			return w, errors.New("singular Hessian")
		}
		big := 0.0
		for a := range w {
			w[a] -= step[a]
			big = max(big, math.Abs(step[a]))
		}
		if big < 1e-9 {
			return w, nil
		}
	}
	return w, errors.New("Newton's method did not converge")
}

// solve solves the d×d system in m's first d columns for its last column (Gauss–Jordan, partial pivoting); m
// is overwritten.
func solve(m [][]float64) ([]float64, bool) {
	d := len(m)
	x := make([]float64, d)
	for c := range d {
		p := c
		for r := c + 1; r < d; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if m[p][c] == 0 {
			return x, false
		}
		m[c], m[p] = m[p], m[c]
		for r := range d {
			if r != c {
				f := m[r][c] / m[c][c]
				for k := c; k <= d; k++ {
					m[r][k] -= f * m[c][k]
				}
			}
		}
	}
	for i := range x {
		x[i] = m[i][d] / m[i][i]
	}
	return x, true
}

// RiskPoint is one point of the risk–coverage curve: at this confirm threshold, the share of codes that ask the
// clerk and the share that are wrong without asking.
type RiskPoint struct {
	Threshold       float64 `json:"threshold"`
	ConfirmRate     float64 `json:"confirm_rate"`
	SilentErrorRate float64 `json:"silent_error_rate"`
}

// RiskCoverage evaluates the confirm policy "ask when the code's confidence is below t or the format breaks"
// at every distinct threshold that changes a decision (plus 0 and 1), in increasing order.
func RiskCoverage(rs []Reading) []RiskPoint {
	ts := []float64{0}
	for _, r := range rs {
		if !r.FormatError {
			// Just above the confidence, so this code starts to be asked.
			ts = append(ts, math.Nextafter(r.Confidence, 2))
		}
	}
	ts = append(ts, 1)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	// One pass over the readings sorted by confidence: at each threshold the codes below it ask.
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b Reading) int { return cmp.Compare(a.Confidence, b.Confidence) })
	ask, silent := 0, 0
	for _, r := range sorted {
		if r.FormatError {
			ask++
		} else if !r.Correct {
			silent++
		}
	}
	n := float64(max(1, len(rs)))
	out := make([]RiskPoint, 0, len(ts))
	k := 0
	for _, t := range ts {
		for ; k < len(sorted) && sorted[k].Confidence < t; k++ {
			if r := sorted[k]; !r.FormatError {
				ask++
				if !r.Correct {
					silent--
				}
			}
		}
		out = append(out, RiskPoint{Threshold: t, ConfirmRate: float64(ask) / n, SilentErrorRate: float64(silent) / n})
	}
	return out
}

// PerDigit is the readings as the per-digit rule saw them (a code asks when its lowest digit confidence is
// below the threshold): RiskCoverage of it is that rule's curve, for comparison.
func PerDigit(rs []Reading) []Reading {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Confidence = out[i].MinConfidence
	}
	return out
}

// ChooseThreshold picks, on a risk–coverage curve, the lowest confirm rate whose silent-error rate is at most
// target (the curve's thresholds only raise the confirm rate, so that is the lowest such threshold). ok is
// false when no threshold meets the target (then the highest threshold is returned).
func ChooseThreshold(curve []RiskPoint, target float64) (RiskPoint, bool) {
	for _, p := range curve {
		if p.SilentErrorRate <= target {
			return p, true
		}
	}
	if len(curve) == 0 {
		return RiskPoint{Threshold: 1}, false
	}
	return curve[len(curve)-1], false
}

// MaxSilent is the most silent errors of n codes whose one-sided Clopper–Pearson upper bound on the
// silent-error rate, at confidence conf, is at most target: a threshold chosen at that count keeps its rate
// within target on other codes with probability ~conf instead of ~1/2 (choosing the lowest-asking threshold at
// the target itself sits at the edge of the curve's noise). conf <= 0 is no margin: floor(target·n). -1 when
// even no silent error is too many.
func MaxSilent(n int, target, conf float64) int {
	if n <= 0 {
		return -1
	}
	k := int(math.Floor(target*float64(n) + 1e-9))
	if conf <= 0 {
		return k
	}
	for ; k >= 0; k-- {
		// The upper bound for k of n is the conf quantile of Beta(k+1, n-k).
		if k >= n || (distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}).Quantile(conf) <= target {
			break
		}
	}
	return k
}

// ChooseThresholdBound picks, on the risk–coverage curve of n codes, the lowest confirm rate with at most
// MaxSilent(n, target, conf) silent errors (ChooseThreshold with the binomial margin). ok is false when no
// threshold meets it (then the highest threshold is returned).
func ChooseThresholdBound(curve []RiskPoint, n int, target, conf float64) (RiskPoint, bool) {
	kmax := MaxSilent(n, target, conf)
	for _, p := range curve {
		if int(math.Round(p.SilentErrorRate*float64(n))) <= kmax {
			return p, true
		}
	}
	if len(curve) == 0 {
		return RiskPoint{Threshold: 1}, false
	}
	return curve[len(curve)-1], false
}

// RatesAt is the confirm policy at threshold t on readings: the share of codes that ask (format error or
// confidence below t) and the share wrong without asking.
func RatesAt(rs []Reading, t float64) (confirmRate, silentErrorRate float64) {
	ask, silent := 0, 0
	for _, r := range rs {
		switch {
		case r.FormatError || r.Confidence < t:
			ask++
		case !r.Correct:
			silent++
		}
	}
	n := float64(max(1, len(rs)))
	return float64(ask) / n, float64(silent) / n
}
