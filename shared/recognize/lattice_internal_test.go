package recognize

import (
	"image"
	"math"
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
	r := shippedRecognizer(t, Config{Format: "5"})
	const n = 10
	lazy, all, withLattice := 0, 0, 0
	for q := range n {
		img, code, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 4*q+3, 50) // tight codes
		if err != nil {
			t.Fatal(err)
		}
		j1, j2 := twoJobs(t, r, img)
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

// A single wide digit's alternatives with more digits are read only when the first reading leaves them a chance
// (Job.readLater): on validation writers' single digits the reading is the one reading every candidate gives,
// for fewer digits through the model.
func TestClassify_LaterAlternativesReadAsIfEveryCandidateWereRead(t *testing.T) {
	r := shippedRecognizer(t, Config{})
	const n = 400
	deferred, readAnyway, lazy, all := 0, 0, 0, 0
	for _, kind := range []synth.SetKind{synth.CleanDigits, synth.UnsteadyDigits} {
		for i := range n {
			img, label, err := synth.SetCanvas(synth.ValWriters, kind, 7, i, 100)
			if err != nil {
				t.Fatal(err)
			}
			j1, j2 := twoJobs(t, r, img)
			if j2.later != nil {
				deferred++
				for c := 1; c < len(j2.later.Boxes); c++ {
					j2.addCand(j2.later, c)
				}
				j2.later = nil
			}
			if err := r.Classify([]*Job{j1}); err != nil {
				t.Fatal(err)
			}
			if err := r.Classify([]*Job{j2}); err != nil {
				t.Fatal(err)
			}
			if len(j1.cands) > 1 && j1.Len() < j2.Len() {
				t.Errorf("%s: alternatives read (%d candidates) and still fewer digits than every candidate", label, len(j1.cands))
			}
			if len(j1.cands) > 1 && len(j2.cands) > 1 {
				readAnyway++
			}
			lazy += j1.Len()
			all += j2.Len()
			got, want := j1.Result(), j2.Result()
			if got.Code != want.Code || got.Confidence != want.Confidence || len(got.Digits) != len(want.Digits) ||
				len(got.Digits) > 0 && got.Digits[0].Box != want.Digits[0].Box {
				t.Errorf("%s: lazy reading %s (%.4f), every candidate read %s (%.4f)", label, got.Code, got.Confidence,
					want.Code, want.Confidence)
			}
		}
	}
	t.Logf("%d digits, %d with alternatives of more digits only, %d of them read anyway: %d digits through the model, %d with every candidate",
		2*n, deferred, readAnyway, lazy, all)
	if deferred == 0 || lazy >= all {
		t.Errorf("%d digits deferred their alternatives, %d digits read vs %d: want some deferred and fewer read", deferred, lazy, all)
	}
}

// shippedRecognizer is a recogniser of the shipped fp32 model.
func shippedRecognizer(t *testing.T, cfg Config) *Recognizer {
	t.Helper()
	b, err := os.ReadFile("../../assets/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnxload.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(m, ModelInfo{Name: "shipped"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// twoJobs prepares two jobs from one canvas: one to read as the recogniser does, one to read everything.
func twoJobs(t *testing.T, r *Recognizer, img image.Image) (*Job, *Job) {
	t.Helper()
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
	return j1, j2
}

// A single-digit edge two digits wide pays for its width; edges of a digit's width and the bounds of the code
// do not change.
func TestPriceWide_PricesOnlyEdgesWiderThanTheCodesPitch(t *testing.T) {
	lat := &lattice{nodes: 4, edges: []latticeEdge{
		{from: 0, to: 1, box: image.Rect(0, 0, 20, 40), cost: 0.5},
		{from: 1, to: 2, box: image.Rect(20, 0, 40, 40)},
		{from: 0, to: 2, box: image.Rect(0, 0, 40, 40)},
		{from: 2, to: 3, box: image.Rect(40, 0, 60, 40)},
	}}
	lat.priceWide(3) // pitch 20
	if lat.edges[0].cost != 0.5 || lat.edges[1].cost != 0 || lat.edges[3].cost != 0 {
		t.Errorf("digit-wide edges repriced: %v %v %v", lat.edges[0].cost, lat.edges[1].cost, lat.edges[3].cost)
	}
	if want := wideWeight * (2 - wideFrom) * (2 - wideFrom); math.Abs(lat.edges[2].cost-want) > 1e-9 {
		t.Errorf("edge two pitches wide costs %v, want %v", lat.edges[2].cost, want)
	}
}
