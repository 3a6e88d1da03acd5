package monitor

import (
	"math/rand/v2"
)

// Test is one drift test of a window against the reference.
type Test struct {
	Name      string  `json:"name"`
	Statistic float64 `json:"statistic"`
	// PValue is the test's own p-value where it has one (chi-squared, asymptotic KS, MMD permutations); nil for
	// Jensen–Shannon and PSI, which are judged by their calibrated threshold alone.
	PValue *float64 `json:"p_value"`
	// Threshold is the calibrated statistic above which the test alarms.
	Threshold float64 `json:"threshold"`
	Detected  bool    `json:"detected"`
}

// testNames lists every test in report order.
func testNames() []string {
	names := []string{"class_mix_chi2", "class_mix_js", "confidence_ks", "entropy_ks", "embedding_mmd"}
	for _, f := range featureNames {
		names = append(names, f+"_ks", f+"_psi")
	}
	return append(names, digitsPerCode+"_ks", digitsPerCode+"_psi")
}

func pv(x float64) *float64 { x = round6(x); return &x }

// statistics runs every test on a window of predictions. With rng nil, the MMD permutation p-value is skipped
// (bootstrap calibration needs statistics only).
func (p *Profile) statistics(win []*codeRec, rng *rand.Rand, w *mmdWork) []Test {
	var counts [10]int
	var conf, ent []float64
	var feats [nFeatures][]float64
	var dpc []float64
	var emb [][]float64
	var kref [][]float32
	for _, c := range win {
		dpc = append(dpc, float64(len(c.digits)))
		for i := range c.digits {
			d := &c.digits[i]
			counts[d.class]++
			conf = append(conf, d.conf)
			ent = append(ent, d.ent)
			for k := range feats {
				feats[k] = append(feats[k], d.feat[k])
			}
		}
	}
	// The MMD uses the most recent digits with embeddings.
	for i := len(win) - 1; i >= 0 && len(emb) < windowDigitsMMD; i-- {
		for j := range win[i].digits {
			if d := &win[i].digits[j]; d.emb != nil && len(emb) < windowDigitsMMD {
				emb = append(emb, d.emb)
				kref = append(kref, d.kref)
			}
		}
	}
	n := len(conf)
	out := make([]Test, 0, 19)
	chi, chiP := chiSquare(counts, p.ClassMix, p.ClassMixDigits)
	out = append(out, Test{Name: "class_mix_chi2", Statistic: chi, PValue: pv(chiP)})
	out = append(out, Test{Name: "class_mix_js", Statistic: jensenShannon(counts, p.ClassMix)})
	ks := func(name string, d Dist, v []float64) {
		D := d.ks(v)
		out = append(out, Test{Name: name, Statistic: D, PValue: pv(ksPValue(D, len(v)))})
	}
	ks("confidence_ks", p.Confidence, conf)
	ks("entropy_ks", p.Entropy, ent)
	if len(emb) > 0 && len(p.Embedding.Sample) > 0 {
		m, mp := p.mmdReference().test(emb, kref, permIf(rng), rng, w)
		t := Test{Name: "embedding_mmd", Statistic: m}
		if rng != nil {
			t.PValue = pv(mp)
		}
		out = append(out, t)
	}
	for k, name := range featureNames {
		d := p.Features[name]
		ks(name+"_ks", d, feats[k])
		out = append(out, Test{Name: name + "_psi", Statistic: d.psi(feats[k])})
	}
	d := p.Features[digitsPerCode]
	ks(digitsPerCode+"_ks", d, dpc)
	out = append(out, Test{Name: digitsPerCode + "_psi", Statistic: d.psi(dpc)})
	_ = n
	for i := range out {
		out[i].Statistic = round6(out[i].Statistic)
	}
	return out
}

func permIf(rng *rand.Rand) int {
	if rng == nil {
		return 0
	}
	return permutations
}

// evaluate runs the tests on a window and judges them with the calibrated thresholds for its size; it returns
// nil when the window is smaller than the smallest calibrated size. MMD alarms only when its permutation p-value
// is also below 0.05.
func (p *Profile) evaluate(win []*codeRec, rng *rand.Rand, w *mmdWork) ([]Test, *WindowCalibration) {
	wc := p.window(len(win))
	if wc == nil {
		return nil, nil
	}
	if len(win) > wc.Size {
		win = win[len(win)-wc.Size:]
	}
	ts := p.statistics(win, rng, w)
	for i := range ts {
		t := &ts[i]
		th, ok := wc.Thresholds[t.Name]
		if !ok {
			continue
		}
		t.Threshold = th
		t.Detected = t.Statistic > th
		if t.Name == "embedding_mmd" && t.PValue != nil && *t.PValue >= 0.05 { // permutations, where run
			t.Detected = false
		}
	}
	return ts, wc
}
