package train

import (
	"testing"

	"digitpad/shared/synth"
)

// Pair pieces of synthetic codes: most are labelled with two digits, the wrong ones with Outlier on both sides,
// and the set does not depend on the worker count.
func TestMakePairSet_LabelsPairsAndOutliersDeterministically(t *testing.T) {
	o := PairOptions{Writers: synth.TrainWriters, N: 40, Outliers: 10, Seed: 3, Workers: 1}
	a, err := MakePairSet(o)
	if err != nil {
		t.Fatal(err)
	}
	o.Workers = 3
	b, err := MakePairSet(o)
	if err != nil {
		t.Fatal(err)
	}
	if a.Left.Len() != 50 || b.Left.Len() != 50 {
		t.Fatalf("sizes %d, %d, want 50", a.Left.Len(), b.Left.Len())
	}
	outs := 0
	for i := range a.Left.Labels {
		if a.Left.Labels[i] != b.Left.Labels[i] || a.Right.Labels[i] != b.Right.Labels[i] {
			t.Fatalf("sample %d differs with the worker count", i)
		}
		if (a.Left.Labels[i] == Outlier) != (a.Right.Labels[i] == Outlier) {
			t.Fatalf("sample %d: left %d right %d: an outlier is one on both sides", i, a.Left.Labels[i], a.Right.Labels[i])
		}
		if a.Left.Labels[i] == Outlier {
			outs++
		}
	}
	if outs != 10 {
		t.Errorf("%d outliers, want 10", outs)
	}
	if _, err := MakePairSet(PairOptions{Writers: synth.EvalWriters, N: 1}); err == nil {
		t.Error("evaluation writers accepted")
	}
}
