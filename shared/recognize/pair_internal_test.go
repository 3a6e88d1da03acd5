package recognize

import (
	"os"
	"slices"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/synth"
)

// A pair edge stands for two digits on a path: a 3-digit path over 3 nodes' worth of single edges may take a
// pair edge and one single edge, and takes it when the pair reads better than the two singles it replaces.
func TestLatticePath_PairEdgeCountsTwoDigits(t *testing.T) {
	lat := &lattice{nodes: 4, edges: []latticeEdge{
		{from: 0, to: 1, digit: 0}, {from: 1, to: 2, digit: 1}, {from: 2, to: 3, digit: 2},
		{from: 0, to: 2, digit: 3, digit2: 4, pair: true},
	}}
	for _, tc := range []struct {
		pair float64
		want []int
	}{{-1, []int{0, 1, 2}}, {-0.1, []int{3, 2}}} {
		val := func(e *latticeEdge) (float64, bool) {
			if e.pair {
				return tc.pair, true
			}
			return -0.3, true
		}
		if got := lat.path(3, val); !slices.Equal(got, tc.want) {
			t.Errorf("pair scoring %g: path %v, want %v", tc.pair, got, tc.want)
		}
		// The forward and backward bests agree with the path's score.
		fwd, bwd := lat.scores(3, val, false), lat.scores(3, val, true)
		if fwd[3][3] != bwd[3][0] {
			t.Errorf("pair scoring %g: forward best %g, backward best %g", tc.pair, fwd[3][3], bwd[3][0])
		}
	}
	if got := lat.path(2, func(e *latticeEdge) (float64, bool) { return 0, true }); got != nil {
		t.Errorf("2-digit path %v over 3 digits of ink, want none", got)
	}
}

// shippedPairReader is the shipped pair reader (assets/pair-*.onnx), loaded without onnxrec.
func shippedPairReader(t *testing.T) *PairReader {
	t.Helper()
	var ms [2]*model.Model
	for i, side := range []string{"left", "right"} {
		b, err := os.ReadFile("../../assets/pair-" + side + ".onnx")
		if err != nil {
			t.Fatal(err)
		}
		if ms[i], err = onnxload.Load(b); err != nil {
			t.Fatal(err)
		}
	}
	p, err := NewPairReader(ms[0], ms[1])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The pair reader reads only where the image reading is in doubt: on validation codes (every fourth tight) it
// reads pieces for a minority of codes (the tight ones in doubt), and the pieces its two halves read (each
// model about half the digit model's multiply-accumulates) stay a minority of the digit model's inputs.
func TestReadPairs_OnlyCodesInDoubt(t *testing.T) {
	r := shippedRecognizer(t, Config{Format: "5", Pair: shippedPairReader(t)})
	const n = 80
	digitInputs, pairInputs, codesRead := 0, 0, 0
	for q := range n {
		img, _, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, q, 50)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ink.WorkMaskFromImage(img, ink.Options{})
		if err != nil {
			t.Fatal(err)
		}
		j, err := r.Prepare(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Classify([]*Job{j}); err != nil {
			t.Fatal(err)
		}
		pairs := 0
		if j.lat != nil {
			for _, e := range j.lat.edges {
				if e.pair && e.digit >= 0 {
					pairs++
				}
			}
		}
		if pairs > 0 {
			codesRead++
		}
		pairInputs += pairs
		digitInputs += len(j.digits) - 2*pairs
	}
	t.Logf("%d validation codes: %d digit model inputs, %d pair pieces read in %d codes", n, digitInputs, pairInputs, codesRead)
	// Measured: 552 digit inputs, 175 pair pieces read by both halves in 27 codes (before the one-digit groups'
	// cuts, ink.oneCutFrom: 174 pieces in 26 codes; session 10: 167 in 25).
	if codesRead == 0 || 5*codesRead > 2*n || pairInputs > digitInputs/3 {
		t.Errorf("pair pieces read in %d of %d codes, %d against %d digit inputs: want some codes, at most two fifths, and at most a third of the inputs",
			codesRead, n, pairInputs, digitInputs)
	}
}

// A digit the pair reader read keeps its own input (its half of the pair piece, ink.Lattice.PairHalves), not the
// pair input both digits share: what feedback records store and retraining learns from, labelled with that one
// digit. On validation codes the digit model reads most such inputs as the digit written there; the pair input
// (two digits squeezed into one) it reads as either digit at best.
func TestReadPairs_PairDigitsKeepTheirOwnInputs(t *testing.T) {
	r := shippedRecognizer(t, Config{Format: "5", Pair: shippedPairReader(t)})
	var inputs [][784]float32
	var labels []int
	for q := range 400 {
		img, text, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, q, 50)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Image(img, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range res.Digits {
			if !d.Pair || len(res.Digits) != len(text) {
				continue
			}
			if i+1 < len(res.Digits) && res.Digits[i+1].Pair && res.Inputs[i] == res.Inputs[i+1] {
				t.Errorf("code %d: pair digits %d and %d share one input", q, i, i+1)
			}
			inputs, labels = append(inputs, res.Inputs[i]), append(labels, int(text[i]-'0'))
		}
	}
	if len(inputs) < 100 {
		t.Fatalf("only %d pair-read digits in 400 validation codes, want at least 100", len(inputs))
	}
	res, err := r.Digits(inputs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, d := range res.Digits {
		if d.Digit == labels[i] {
			right++
		}
	}
	t.Logf("the digit model reads %d of %d pair-read digits' inputs as the digit written", right, len(inputs))
	// Measured: 74 of 122 (the pair input before session 15: 50 of 122, and both digits of a pair shared it).
	if 100*right < 52*len(inputs) {
		t.Errorf("the digit model reads %d of %d pair-read digits' inputs as written, want at least 52%%", right, len(inputs))
	}
}
