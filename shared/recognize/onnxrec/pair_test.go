package onnxrec_test

import (
	"image"
	"testing"

	"digitpad/assets"
	"digitpad/internal/cputime"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
)

// pairRecognizers are the shipped fp32 model's recognisers for 5-digit codes without and with the shipped pair
// reader (neither with the second reader).
func pairRecognizers(tb testing.TB) (off, on *recognize.Recognizer) {
	tb.Helper()
	m, err := onnxrec.Load(assets.Model(), assets.ModelCard())
	if err != nil {
		tb.Fatal(err)
	}
	cfg := recognize.Config{Format: "5"}
	if off, err = recognize.New(m.Model, recognize.ModelInfo{Name: m.Card.Name}, m.Card.Configure(cfg)); err != nil {
		tb.Fatal(err)
	}
	pair, err := onnxrec.PairReader()
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Pair = pair
	if on, err = recognize.New(m.Model, recognize.ModelInfo{Name: m.Card.Name}, m.Card.Configure(cfg)); err != nil {
		tb.Fatal(err)
	}
	return off, on
}

// tightCodes are tightly written 5-digit codes of validation writers (seed 5, as the lattice tests use).
func tightCodes(tb testing.TB, n int) ([]image.Image, []string) {
	tb.Helper()
	imgs, codes := make([]image.Image, n), make([]string, n)
	for q := range n {
		img, code, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 4*q+3, 50)
		if err != nil {
			tb.Fatal(err)
		}
		imgs[q], codes[q] = img, code
	}
	return imgs, codes
}

// The pair reader reads pieces holding two touching digits whose strokes cross: on tightly written validation
// codes it turns wrong readings right and no more right ones wrong than it fixes. The digits it reads are marked
// (Digit.Pair, which the confirm model weighs apart), and only those.
func TestPairReader_TightValidationCodesReadRightMoreOften(t *testing.T) {
	off, on := pairRecognizers(t)
	imgs, codes := tightCodes(t, 60)
	fixed, broken, marked := 0, 0, 0
	pairs := func(r *recognize.Result) int {
		n := 0
		for _, d := range r.Digits {
			if d.Pair {
				n++
			}
		}
		return n
	}
	for q, img := range imgs {
		a, err := off.Image(img, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := on.Image(img, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if pairs(a) > 0 {
			t.Errorf("code %d read without the pair reader has pair digits", q)
		}
		marked += pairs(b)
		switch {
		case a.Code != codes[q] && b.Code == codes[q]:
			fixed++
		case a.Code == codes[q] && b.Code != codes[q]:
			broken++
		}
	}
	t.Logf("of %d tight validation codes the pair reader fixed %d and broke %d; %d digits are marked as its", len(imgs), fixed, broken, marked)
	if fixed > 0 && marked < 2 {
		t.Errorf("the pair reader fixed %d codes, but %d digits are marked as its", fixed, marked)
	}
	if fixed == 0 || broken >= fixed {
		t.Errorf("pair reader fixed %d codes and broke %d: want some fixed, fewer broken", fixed, broken)
	}
}

// BenchmarkPairReader reads validation codes (every fourth tight, as the code sets) without and with the pair
// reader; compare cpu-ns/op at -cpu 1 (-benchtime 40x reads each code once). The first 40 validation codes
// cost tight ones cost more.
func BenchmarkPairReader(b *testing.B) {
	off, on := pairRecognizers(b)
	imgs := make([]image.Image, 40)
	for q := range imgs {
		img, _, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, q, 50)
		if err != nil {
			b.Fatal(err)
		}
		imgs[q] = img
	}
	for _, bc := range []struct {
		name string
		r    *recognize.Recognizer
	}{{"off", off}, {"on", on}} {
		b.Run(bc.name, func(b *testing.B) {
			c0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				if _, err := bc.r.Image(imgs[i%len(imgs)], recognize.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}
