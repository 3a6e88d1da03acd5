package recognize_test

import (
	"testing"

	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// Tightly written codes (touching and overlapping neighbours, synthetic validation writers) with a 5-digit
// format: the model judges where the digits part among cuts that follow the strokes, so the reading has five
// digits and many more codes read exactly. Before the lattice, half of such codes read as four digits or fewer.
func TestImage_TightCodesReadWithTheFormatsCount(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{Format: "5"})
	const n = 40
	exact, five := 0, 0
	for q := range n {
		img, code, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 4*q+3, 50) // every fourth item is tight
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Image(img, recognize.Options{})
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if len(res.Digits) == 5 {
			five++
		}
		if res.Code == code {
			exact++
		}
	}
	t.Logf("%d tight codes: %d read with 5 digits, %d exactly", n, five, exact)
	// Measured: 40 with five digits, 18 exact.
	if five < n*95/100 || exact < n*2/5 {
		t.Errorf("%d tight codes: %d with 5 digits (want >= 95%%), %d exact (want >= 40%%)", n, five, exact)
	}
}

// BenchmarkImage_TightCode640x240 reads a tightly written code (every digit touching a neighbour) with the
// 5-digit format: segmentation, the lattice's extra candidate digits and the model call.
func BenchmarkImage_TightCode640x240(b *testing.B) {
	r := mustRecognizer(b, recognize.Config{Format: "5"})
	img, _, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 3, 50)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Image(img, recognize.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
