package train_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"digitpad/shared/recognize"
	"digitpad/shared/synth"
	"digitpad/train"
)

// TestFitTemperature_RecoversKnownTemperature: labels drawn from p^(1/T0) make T0 the NLL-optimal temperature
// for probabilities p.
func TestFitTemperature_RecoversKnownTemperature(t *testing.T) {
	for _, t0 := range []float64{0.6, 1, 2} {
		rng := rand.New(rand.NewPCG(5, uint64(t0*100)))
		const n = 6000
		probs := make([]float32, 0, 10*n)
		labels := make([]uint8, 0, n)
		for range n {
			var z [10]float64
			for i := range z {
				z[i] = 3 * rng.NormFloat64()
			}
			// The model's probabilities p = softmax(z); the truth follows softmax(z/T0).
			var sp, st float64
			for _, v := range z {
				sp += math.Exp(v)
				st += math.Exp(v / t0)
			}
			u, acc, label := rng.Float64()*st, 0.0, 9
			for i, v := range z {
				probs = append(probs, float32(math.Exp(v)/sp))
				acc += math.Exp(v / t0)
				if label == 9 && u < acc && i < 9 {
					label = i
				}
			}
			labels = append(labels, uint8(label))
		}
		got, err := train.FitTemperature(probs, labels)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-t0)/t0 > 0.1 {
			t.Errorf("fitted temperature %.3f, want %.2f ± 10%%", got, t0)
		}
	}
	if _, err := train.FitTemperature([]float32{1}, []uint8{0}); err == nil {
		t.Error("mismatched probabilities accepted")
	}
}

func TestRiskCoverage_ChoosesLowestConfirmRateMeetingTarget(t *testing.T) {
	rs := []train.Reading{
		{Confidence: 0.99, Correct: true},
		{Confidence: 0.98, Correct: true},
		{Confidence: 0.97, Correct: false}, // a confident mistake: only a high threshold catches it
		{Confidence: 0.90, Correct: true},
		{Confidence: 0.60, Correct: false},
		{Confidence: 0.99, FormatError: true}, // always asked
	}
	curve := train.RiskCoverage(rs)
	for i := 1; i < len(curve); i++ {
		if curve[i].ConfirmRate < curve[i-1].ConfirmRate || curve[i].SilentErrorRate > curve[i-1].SilentErrorRate {
			t.Fatalf("curve not monotone at %d: %+v", i, curve)
		}
	}
	if c := curve[0]; c.ConfirmRate != 1.0/6 || c.SilentErrorRate != 2.0/6 {
		t.Errorf("threshold 0: %+v, want 1/6 asked and 2/6 silent", c)
	}
	p, ok := train.ChooseThreshold(curve, 0.2)
	if !ok || p.SilentErrorRate > 0.2 || p.Threshold <= 0.6 || p.Threshold > 0.61 {
		t.Errorf("target 20%%: %+v ok=%v, want the threshold just above 0.60", p, ok)
	}
	p, ok = train.ChooseThreshold(curve, 0)
	if !ok || p.SilentErrorRate != 0 || p.Threshold <= 0.97 || p.Threshold > 0.971 {
		t.Errorf("target 0: %+v ok=%v, want the threshold just above 0.97", p, ok)
	}
}

// TestPerDigit_RanksCodesByTheirLowestDigit: the per-digit rule's curve (for comparison in the card) asks by
// the lowest digit confidence, not by the code's.
func TestPerDigit_RanksCodesByTheirLowestDigit(t *testing.T) {
	rs := []train.Reading{
		{Confidence: 0.95, MinConfidence: 0.99, Correct: false}, // several digits a little doubtful
		{Confidence: 0.96, MinConfidence: 0.96, Correct: true},  // one digit doubtful
	}
	code, _ := train.ChooseThreshold(train.RiskCoverage(rs), 0)
	digit, _ := train.ChooseThreshold(train.RiskCoverage(train.PerDigit(rs)), 0)
	if code.ConfirmRate != 0.5 || digit.ConfirmRate != 1 {
		t.Errorf("no silent error: code rule asks %v, per-digit rule %v; want 0.5 and 1", code.ConfirmRate, digit.ConfirmRate)
	}
	if rs[0].Confidence != 0.95 {
		t.Error("PerDigit changed its input")
	}
}

func TestSynthSet_DeterministicAndNeverEvalWriters(t *testing.T) {
	o := train.SynthOptions{Writers: synth.TrainWriters, N: 60, Seed: 3, PerWriter: 20}
	a, err := train.SynthSet(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.SynthSet(o)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 60 || len(a.Images) != 60*784 {
		t.Fatalf("got %d digits, want 60", a.Len())
	}
	for i := range a.Images {
		if a.Images[i] != b.Images[i] {
			t.Fatal("same options gave different images")
		}
	}
	for i, l := range a.Labels {
		var mass float32
		for _, v := range a.Image(i) {
			mass += v
		}
		if l > 9 || mass < 10 {
			t.Errorf("digit %d: label %d, ink mass %.1f", i, l, mass)
		}
	}
	o.Writers = synth.EvalWriters
	if _, err := train.SynthSet(o); err == nil {
		t.Error("evaluation writers were used to make training data")
	}
}

// TestFitConfirm_RecoversKnownModel: codes whose rightness is drawn from a known logistic model of their
// digits' ln confidences and shortness give back its shortness weights relative to the confidence weight.
func TestFitConfirm_RecoversKnownModel(t *testing.T) {
	const bias, wConf, wShort, wShortOne, wPair = 3.5, 6.0, 1.2, 6.0, 3.0
	rng := rand.New(rand.NewPCG(12, 5))
	rs := make([]train.Reading, 0, 30000)
	for range cap(rs) {
		r := train.Reading{Doubts: make([]recognize.Doubt, 5)}
		z := bias
		for i := range r.Doubts {
			d := recognize.Doubt{Confidence: 1 - math.Exp(-1-7*rng.Float64()), One: rng.IntN(6) == 0, Pair: rng.IntN(8) == 0}
			if rng.IntN(4) == 0 {
				d.Short = 0.6 * rng.Float64()
			}
			w := wConf
			if d.Pair {
				w = wPair // the pair reader's confidences say less
			}
			z += w*math.Log(d.Confidence) - wShort*d.Short
			if d.One {
				z -= wShortOne * d.Short
			}
			r.Doubts[i] = d
		}
		r.Correct = rng.Float64() < 1/(1+math.Exp(-z))
		rs = append(rs, r)
	}
	// A code that broke its format takes no part, however it is labelled.
	rs = append(rs, train.Reading{FormatError: true, Correct: true, Doubts: []recognize.Doubt{{Confidence: 1e-9, Short: 5, One: true}}})
	m, err := train.FitConfirm(rs, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fitted %+v (want short %.3f, short_one %.3f, pair %.3f)", m, wShort/wConf, wShortOne/wConf, 1-wPair/wConf)
	if want := wShort / wConf; math.Abs(m.Short-want) > 0.06 {
		t.Errorf("short %.3f, want %.3f", m.Short, want)
	}
	if want := wShortOne / wConf; math.Abs(m.ShortOne-want) > 0.15 {
		t.Errorf("short_one %.3f, want %.3f", m.ShortOne, want)
	}
	if want := 1 - wPair/wConf; math.Abs(m.Pair-want) > 0.1 {
		t.Errorf("pair %.3f, want %.3f", m.Pair, want)
	}
	// Scored by the fitted model, the codes rank wrong ones lower than the confidence alone does: at 1% silent
	// errors fewer codes ask.
	at := func(rs []train.Reading) float64 {
		p, _ := train.ChooseThreshold(train.RiskCoverage(rs), 0.01)
		return p.ConfirmRate
	}
	if before, after := at(train.Rescore(rs, recognize.ConfirmModel{})), at(train.Rescore(rs, m)); after >= before {
		t.Errorf("confirm rate at 1%% silent: %.3f with the model, %.3f without", after, before)
	}
}

// TestFitConfirm_NoPairDigitsNoPairWeight: readings without pair digits (a reader without the pair reader)
// leave the pair weight 0, so pair digits read later count as they are.
func TestFitConfirm_NoPairDigitsNoPairWeight(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	var rs []train.Reading
	for range 2000 {
		c := 1 - math.Exp(-1-5*rng.Float64())
		rs = append(rs, train.Reading{Correct: rng.Float64() < c, Doubts: []recognize.Doubt{{Confidence: c}}})
	}
	m, err := train.FitConfirm(rs, false)
	if err != nil {
		t.Fatal(err)
	}
	if m.Pair != 0 {
		t.Errorf("pair weight %v without pair digits, want 0", m.Pair)
	}
}

// TestFitConfirm_EdgeWeightOnlyWhenAsked: codes whose digits at the canvas's edge are wrong more often than
// their confidence says get a fitted edge weight near the one they were drawn with when it is asked for, and
// none otherwise.
func TestFitConfirm_EdgeWeightOnlyWhenAsked(t *testing.T) {
	const bias, wConf, wEdge = 3.0, 4.0, 2.0
	rng := rand.New(rand.NewPCG(5, 11))
	var rs []train.Reading
	for range 20000 {
		r := train.Reading{Doubts: make([]recognize.Doubt, 5)}
		z := bias
		for i := range r.Doubts {
			d := recognize.Doubt{Confidence: 1 - math.Exp(-1-7*rng.Float64()), Edge: (i == 0 || i == 4) && rng.IntN(5) == 0}
			z += wConf * math.Log(d.Confidence)
			if d.Edge {
				z -= wEdge
			}
			r.Doubts[i] = d
		}
		r.Correct = rng.Float64() < 1/(1+math.Exp(-z))
		rs = append(rs, r)
	}
	m, err := train.FitConfirm(rs, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := wEdge / wConf; math.Abs(m.Edge-want) > 0.1 {
		t.Errorf("edge %.3f, want %.3f", m.Edge, want)
	}
	if m, err := train.FitConfirm(rs, false); err != nil || m.Edge != 0 {
		t.Errorf("without edge: %+v, %v; want edge 0", m, err)
	}
}

// TestFitConfirm_NeedsRightAndWrongCodes: all-right readings cannot be fitted.
func TestFitConfirm_NeedsRightAndWrongCodes(t *testing.T) {
	rs := []train.Reading{{Correct: true, Doubts: []recognize.Doubt{{Confidence: 0.9}}}, {Correct: true, Doubts: []recognize.Doubt{{Confidence: 0.5}}}}
	if _, err := train.FitConfirm(rs, false); err == nil {
		t.Error("fitted all-right codes")
	}
}

// TestRatesAt_CountsAskedAndSilent: a code asks below the threshold or on a format error; a wrong code at or
// above it is silent.
func TestRatesAt_CountsAskedAndSilent(t *testing.T) {
	rs := []train.Reading{{Confidence: 0.5}, {Confidence: 0.95, FormatError: true}, {Confidence: 0.95}, {Confidence: 0.9, Correct: true}}
	if ask, silent := train.RatesAt(rs, 0.9); ask != 0.5 || silent != 0.25 {
		t.Errorf("ask %v silent %v, want 0.5 0.25", ask, silent)
	}
}

// TestMaxSilent_IsTheBinomialUpperBound: the count MaxSilent allows is the largest whose binomial tail at the
// target, P(X <= k | n, target), is at most 1 - conf (the Clopper–Pearson bound's definition, checked here
// with the binomial CDF rather than the beta quantile MaxSilent uses); the margin it leaves shrinks relative to
// the count as n grows, and conf 0 leaves none.
func TestMaxSilent_IsTheBinomialUpperBound(t *testing.T) {
	const target = 0.005
	prevShare := 0.0
	for _, n := range []int{2000, 8000, 10000, 20000, 200000} {
		for _, conf := range []float64{0.5, 0.75, 0.9} {
			k := train.MaxSilent(n, target, conf)
			tail := func(k int) float64 { return distuv.Binomial{N: float64(n), P: target}.CDF(float64(k)) }
			if k < 0 || tail(k) > 1-conf+1e-9 || tail(k+1) <= 1-conf {
				t.Errorf("n %d conf %.2f: MaxSilent %d, tail at it %.4f and one more %.4f; want the largest k with tail <= %.2f",
					n, conf, k, tail(k), tail(k+1), 1-conf)
			}
			if float64(k) >= target*float64(n) {
				t.Errorf("n %d conf %.2f: MaxSilent %d leaves no margin below %g", n, conf, k, target*float64(n))
			}
			if conf == 0.75 {
				share := float64(k) / (target * float64(n))
				if share <= prevShare {
					t.Errorf("n %d: MaxSilent is %.3f of the target count, not above %.3f at fewer codes", n, share, prevShare)
				}
				prevShare = share
			}
		}
		if k := train.MaxSilent(n, target, 0); k != int(target*float64(n)) {
			t.Errorf("n %d conf 0: MaxSilent %d, want %d (no margin)", n, k, int(target*float64(n)))
		}
	}
	if k := train.MaxSilent(100, 0.005, 0.75); k != -1 {
		t.Errorf("100 codes at 0.5%% and 75%%: MaxSilent %d, want -1 (even 0 of 100 does not bound the rate below 0.5%%)", k)
	}
}

// TestChooseThresholdBound_KeepsTheMargin: on a curve of n codes, the bound rule picks the lowest-asking
// threshold with at most MaxSilent silent errors, which asks more than ChooseThreshold at the target itself.
func TestChooseThresholdBound_KeepsTheMargin(t *testing.T) {
	const n, target, conf = 10000, 0.005, 0.75
	var rs []train.Reading
	for i := range n {
		// Confidence rises with i; every 100th code is wrong: 100 wrong codes spread over the curve.
		rs = append(rs, train.Reading{Confidence: float64(i+1) / float64(n+1), Correct: i%100 != 0})
	}
	curve := train.RiskCoverage(rs)
	plain, ok1 := train.ChooseThreshold(curve, target)
	bound, ok2 := train.ChooseThresholdBound(curve, n, target, conf)
	kmax := train.MaxSilent(n, target, conf)
	if !ok1 || !ok2 {
		t.Fatalf("ok %v %v", ok1, ok2)
	}
	_, silent := train.RatesAt(rs, bound.Threshold)
	if got := int(math.Round(silent * n)); got > kmax {
		t.Errorf("bound rule: %d silent errors at threshold %.4f, MaxSilent %d", got, bound.Threshold, kmax)
	}
	if bound.ConfirmRate <= plain.ConfirmRate {
		t.Errorf("bound rule asks %.4f, plain %.4f: no margin", bound.ConfirmRate, plain.ConfirmRate)
	}
	// The point just before the chosen one breaks the bound: the rule picked the lowest-asking threshold.
	for i, p := range curve {
		if p == bound && i > 0 && int(math.Round(curve[i-1].SilentErrorRate*n)) <= kmax {
			t.Errorf("threshold %.4f also meets the bound and asks less", curve[i-1].Threshold)
		}
	}
	if p, ok := train.ChooseThresholdBound(curve, n, 0, conf); ok || p.Threshold != 1 {
		t.Errorf("target 0 at 75%%: %+v ok=%v, want the highest threshold, not ok", p, ok)
	}
}
