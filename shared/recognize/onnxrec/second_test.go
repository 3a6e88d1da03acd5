//go:build !js

package onnxrec_test

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"digitpad/assets"
	"digitpad/internal/cputime"
	"digitpad/internal/loadcanvas"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
)

// The shipped recogniser has the second reader: it consults it on validation codes' digits in doubt, and not on
// the serving benchmark's canvases, whose digits the digit model reads surely (issue 16: the grey MNIST digit's
// cost must not grow). A model whose card was not calibrated with it reads without it.
func TestShippedRecognizer_ConsultsSecondReaderOnlyInDoubt(t *testing.T) {
	m, err := onnxrec.Load(assets.Model(), assets.ModelCard())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := m.Recognizer(recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, card, err := onnxrec.SecondModels()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := loadcanvas.Standard()
	if err != nil {
		t.Fatal(err)
	}
	mn, err := loadcanvas.MNIST(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(cs, mn) {
		img, err := png.Decode(bytes.NewReader(c.PNG))
		if err != nil {
			t.Fatal(err)
		}
		r, err := rec.Image(img, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range r.Digits {
			if d.Second {
				t.Errorf("%s: digit %d (%d at %.4f) consulted the second reader", c.Name, i, d.Digit, d.Confidence)
			}
		}
	}
	// A card whose confirm policy was not fitted with the second reader (here: none), or with other models than the
	// shipped ones (here: the shipped second model and one that does not ship), reads without it.
	bare, err := onnxrec.New(assets.Model(), []byte(`{"name":"a","calibration":{"temperature":0.65}}`), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := onnxrec.New(assets.Model(), []byte(`{"name":"a","calibration":{"temperature":0.65,"second_reader":{"sha256":"`+
		card.SHA256+`","more_readers":[{"sha256":"00"}]}}}`), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	consulted, doubtful, bareConsulted := 0, 0, 0
	for q := range 40 {
		img, _, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 11, q, 50)
		if err != nil {
			t.Fatal(err)
		}
		r, err := rec.Image(img, recognize.Options{Format: "5"})
		if err != nil {
			t.Fatal(err)
		}
		for _, other := range []*recognize.Recognizer{bare, foreign} {
			rb, err := other.Image(img, recognize.Options{Format: "5"})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range rb.Digits {
				if d.Second {
					bareConsulted++
				}
			}
		}
		for _, d := range r.Digits {
			if d.Second {
				consulted++
			}
			if !d.Pair && d.Confidence < card.ConsultBelow {
				doubtful++
			}
		}
	}
	if consulted == 0 {
		t.Errorf("no digit of 40 validation codes consulted the second reader (%d read below its level %.3g after it)", doubtful, card.ConsultBelow)
	}
	if bareConsulted > 0 {
		t.Errorf("cards fitted without the shipped second reader: %d digits consulted it", bareConsulted)
	}
	t.Logf("40 validation codes: %d digits consulted the second reader", consulted)
}

// BenchmarkSecondReader reads 40 validation codes (seed 11, format 5) with the shipped pair reader, without and
// with the shipped second reader; compare cpu-ns/op at -cpu 1 (-benchtime 400x reads each code ten times).
func BenchmarkSecondReader(b *testing.B) {
	m, err := onnxrec.Load(assets.Model(), assets.ModelCard())
	if err != nil {
		b.Fatal(err)
	}
	pair, err := onnxrec.PairReader()
	if err != nil {
		b.Fatal(err)
	}
	second, err := onnxrec.SecondReader()
	if err != nil {
		b.Fatal(err)
	}
	imgs := make([]image.Image, 40)
	for q := range imgs {
		if imgs[q], _, err = synth.SetCanvas(synth.ValWriters, synth.Codes5, 11, q, 50); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name   string
		second *recognize.SecondReader
	}{{"off", nil}, {"on", second}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := m.Card.Configure(recognize.Config{Format: "5", Pair: pair, Second: bc.second})
			r, err := recognize.New(m.Model, recognize.ModelInfo{Name: m.Card.Name}, cfg)
			if err != nil {
				b.Fatal(err)
			}
			c0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				if _, err := r.Image(imgs[i%len(imgs)], recognize.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// A reader with the second reader takes the card's calibration; one without it (here: the card names none, as
// the browser, which has none, reads every card) takes calibration_without_second, fitted on codes read without it.
func TestRecognizer_CalibrationOfItsOwnReading(t *testing.T) {
	_, sc, err := onnxrec.SecondModels()
	if err != nil {
		t.Fatal(err)
	}
	// Native readers have the pair reader: never the calibration of the digit model alone (the browser's).
	const without = `"calibration_without_second":{"confirm_threshold":0.3,"strokes":{"confirm_threshold":0.2}},` +
		`"calibration_digit_model_only":{"confirm_threshold":0.1,"strokes":{"confirm_threshold":0.05}}`
	for _, c := range []struct {
		second       string
		image, pen   float64
		secondReader bool
	}{{secondJSON(t, sc), 0.7, 0.6, true}, {"{}", 0.3, 0.2, false}} {
		card := `{"name":"a","calibration":{"confirm_threshold":0.7,"strokes":{"confirm_threshold":0.6},` +
			`"second_reader":` + c.second + `},` + without + `}`
		rec, err := onnxrec.New(assets.Model(), []byte(card), recognize.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Threshold() != c.image || rec.StrokeThreshold() != c.pen {
			t.Errorf("second reader %v: thresholds %g (strokes %g), want %g (%g)", c.secondReader, rec.Threshold(),
				rec.StrokeThreshold(), c.image, c.pen)
		}
	}
}
