package calibrate

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"digitpad/assets"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train"
)

// ReadCodes reads in parallel but hands the readings back in code order, each as reading that code alone would
// give, from images and from strokes, and stops with the context's error once it is cancelled.
func TestReadCodes_InCodeOrder(t *testing.T) {
	rec, err := onnxrec.New(assets.Model(), assets.ModelCard(), recognize.Config{Format: "5"})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []Source{Images, Strokes} {
		const n, per = 24, 10 // three seeds
		got, err := ReadCodes(context.Background(), rec, src, 11, n, per)
		if err != nil || len(got) != n {
			t.Fatalf("strokes=%v: %d readings, %v", src, len(got), err)
		}
		distinct := map[float64]bool{}
		for i, r := range got {
			if want := readCode(rec, src, 11+uint64(i/per), i%per); r.Confidence != want.Confidence || r.Correct != want.Correct ||
				r.MinConfidence != want.MinConfidence {
				t.Errorf("strokes=%v code %d: %+v, read alone %+v", src, i, r, want)
			}
			distinct[r.Confidence] = true
		}
		if len(distinct) < n/2 {
			t.Errorf("strokes=%v: %d distinct confidences of %d codes: the codes are not distinct", src, len(distinct), n)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadCodes(ctx, rec, Images, 11, 10, 10); err == nil {
		t.Error("a cancelled context: no error")
	}
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a       uint64
		n, perA int
		b       uint64
		m, perB int
		want    bool
	}{
		{11, 3000, 500, 33, 10000, 500, false},  // calibrate's defaults: 11-16 and 33-52
		{11, 2000, 1000, 13, 10000, 500, false}, // strokes: 11-12 and 13-32
		{11, 3000, 500, 16, 500, 500, true},     // 11-16 and 16
		{11, 0, 500, 11, 500, 500, false},       // no codes
	} {
		if got := Overlap(tc.a, tc.n, tc.perA, tc.b, tc.m, tc.perB); got != tc.want {
			t.Errorf("Overlap(%d, %d, %d, %d, %d, %d) = %v, want %v", tc.a, tc.n, tc.perA, tc.b, tc.m, tc.perB, got, tc.want)
		}
	}
	if got := SeedRange(33, 10000, CodesPerSeed); got != "33-52" {
		t.Errorf("SeedRange(33, 10000) = %q, want 33-52", got)
	}
}

// FitPolicy chooses every threshold it reports (the confirm model's, the product rule's) with the margin of
// Choose: at most train.MaxSilent silent errors of the fitted codes at SilentConfidence, so it asks more than
// the threshold at the target itself when the curve has errors to spare.
func TestFitPolicy_KeepsTheBinomialMargin(t *testing.T) {
	const n, target = 6000, 0.01
	rng := rand.New(rand.NewPCG(3, 4))
	var rs []train.Reading
	for range n {
		var ds []recognize.Doubt
		p := 1.0
		for range 5 {
			c := 1 - 0.2*rng.Float64()*rng.Float64()
			ds = append(ds, recognize.Doubt{Confidence: c, Short: 0.3 * rng.Float64() * rng.Float64(), One: rng.IntN(10) == 0})
			p *= c
		}
		r := train.Reading{Confidence: p, MinConfidence: 1, Correct: rng.Float64() < p, Doubts: ds}
		rs = append(rs, r)
	}
	f := FitPolicy(rs, target, "test", false, io.Discard)
	kmax := train.MaxSilent(n, target, SilentConfidence)
	for _, c := range []struct {
		name  string
		curve []train.RiskPoint
		p     train.RiskPoint
	}{{"confirm model", f.Curve, f.Chosen}, {"product rule", f.ProductCurve, f.Product}} {
		plain, _ := train.ChooseThreshold(c.curve, target)
		if k := int(math.Round(c.p.SilentErrorRate * n)); k > kmax {
			t.Errorf("%s: %d silent errors of %d, the margin allows %d", c.name, k, n, kmax)
		}
		if c.p.ConfirmRate <= plain.ConfirmRate {
			t.Errorf("%s: asks %.4f, at the target itself %.4f: no margin kept", c.name, c.p.ConfirmRate, plain.ConfirmRate)
		}
	}
	if !f.OK {
		t.Error("the target is reachable but not met")
	}
}
