package train

import (
	"cmp"
	"errors"
	"math"
	"slices"
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

// Reading is what the confirm policy sees of one recognised code: its confidence (recognize.Result.Confidence,
// the product of the calibrated digit confidences, which recognize.ConfirmDigits compares with the threshold),
// whether the code broke its format (always asked), and whether it was right. MinConfidence, the lowest digit
// confidence, is what the per-digit rule before it compared (kept to measure the two rules side by side).
type Reading struct {
	Confidence    float64
	MinConfidence float64
	FormatError   bool
	Correct       bool
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
