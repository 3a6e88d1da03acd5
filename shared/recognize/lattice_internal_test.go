package recognize

import (
	"os"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/synth"
)

// The lattice is read lazily (the best path by geometry first, then only edges that can still beat the best
// path read): on tightly written validation codes the reading is the one reading every edge gives, for fewer
// digits through the model.
func TestClassify_LazyLatticeReadsAsIfEveryEdgeWereRead(t *testing.T) {
	b, err := os.ReadFile("../../assets/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnxload.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(m, ModelInfo{Name: "shipped"}, Config{Format: "5"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	lazy, all, withLattice := 0, 0, 0
	for q := range n {
		img, code, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 4*q+3, 50) // tight codes
		if err != nil {
			t.Fatal(err)
		}
		mask, err := ink.WorkMaskFromImage(img, ink.Options{})
		if err != nil {
			t.Fatal(err)
		}
		j1, err := r.Prepare(mask, Options{})
		if err != nil {
			t.Fatal(err)
		}
		j2, err := r.Prepare(mask, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Classify([]*Job{j1}); err != nil {
			t.Fatal(err)
		}
		if j2.lat != nil {
			withLattice++
			for ei := range j2.lat.edges {
				j2.readEdge(ei)
			}
		}
		if err := r.classify([]*Job{j2}); err != nil {
			t.Fatal(err)
		}
		lazy += j1.Len()
		all += j2.Len()
		got, want := j1.Result(), j2.Result()
		if got.Code != want.Code || got.Confidence != want.Confidence {
			t.Errorf("%s: lazy reading %s (%.4f), every edge read %s (%.4f)", code, got.Code, got.Confidence,
				want.Code, want.Confidence)
		}
	}
	t.Logf("%d tight codes, %d with a lattice: %d digits read lazily, %d with every edge", n, withLattice, lazy, all)
	if withLattice < n/2 || lazy >= all {
		t.Errorf("%d of %d codes with a lattice, %d digits read lazily vs %d: want most codes and fewer digits",
			withLattice, n, lazy, all)
	}
}
