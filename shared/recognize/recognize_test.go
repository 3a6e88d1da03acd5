package recognize_test

import (
	"errors"
	"image/color"
	"testing"

	"digitpad/assets"
	"digitpad/shared/ink"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// mustRecognizer builds a recogniser around the shipped model.
func mustRecognizer(tb testing.TB, cfg recognize.Config) *recognize.Recognizer {
	tb.Helper()
	card, err := assets.ParseCard(assets.ModelCard(), assets.Model())
	if err != nil {
		tb.Fatal(err)
	}
	m, err := onnxload.Load(assets.Model())
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.InputScale == 0 {
		cfg.InputScale = card.InputScale
	}
	r, err := recognize.New(m, recognize.ModelInfo{Name: card.Name, SHA256: card.SHA256}, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// mustWrite writes a code with the stroke font, centred on a w×h canvas.
func mustWrite(tb testing.TB, code string, seed uint64, w, h int) *synth.Code {
	tb.Helper()
	p := synth.Defaults()
	p.Seed = seed
	p.Height = float64(h) * 0.6
	c, err := synth.Write(code, synth.Centered(p, len(code), w, h))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestStrokes_FiveDigitCodes(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{})
	codes := []string{"94107", "10115", "75008", "28013", "66231", "30459"}
	right := 0
	for i, code := range codes {
		c := mustWrite(t, code, uint64(i+1), 640, 200)
		res, err := r.Strokes(c.Strokes, 640, 200, recognize.Options{})
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if len(res.Digits) != len(code) {
			t.Errorf("%s: got %d digits (%q), want %d", code, len(res.Digits), res.Code, len(code))
			continue
		}
		if res.Code == code {
			right++
		} else {
			t.Logf("%s: got %q", code, res.Code)
		}
		for k, d := range res.Digits {
			b := c.Boxes[k]
			cx := (d.Box[0] + d.Box[2]) / 2
			if cx < b.Min.X || cx > b.Max.X {
				t.Errorf("%s digit %d: box %v does not cover written digit at %v", code, k, d.Box, b)
			}
		}
	}
	if right < len(codes)-1 {
		t.Errorf("recognised %d of %d codes exactly, want at least %d", right, len(codes), len(codes)-1)
	}
}

func TestImage_SameCodeAsStrokes(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{})
	c := mustWrite(t, "52718", 7, 640, 200)
	byStrokes, err := r.Strokes(c.Strokes, 640, 200, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pen := range []synth.Pen{
		{Width: 6, Ink: color.Black, Background: color.White},
		{Width: 10, Ink: color.White, Background: color.Black},
		{Width: 5, Ink: color.RGBA{0, 0, 128, 255}},
	} {
		img, err := synth.Render(c.Strokes, 640, 200, pen)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Image(img, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != byStrokes.Code {
			t.Errorf("pen %+v: image gives %q, strokes give %q", pen, res.Code, byStrokes.Code)
		}
	}
}

func TestResult_ConfirmFlagsDigitsUnderThreshold(t *testing.T) {
	c := mustWrite(t, "381", 3, 400, 200)
	all := mustRecognizer(t, recognize.Config{Threshold: 1.0000001})
	res, err := all.Strokes(c.Strokes, 400, 200, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Confirm) != len(res.Digits) {
		t.Errorf("threshold above 1: confirm %v, want every one of %d digits", res.Confirm, len(res.Digits))
	}
	none := mustRecognizer(t, recognize.Config{Threshold: 1e-9})
	res, err = none.Strokes(c.Strokes, 400, 200, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Confirm) != 0 {
		t.Errorf("tiny threshold: confirm %v, want none", res.Confirm)
	}
	prod := 1.0
	for _, d := range res.Digits {
		sum := 0.0
		for _, p := range d.Probs {
			sum += p
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("digit probs sum to %v", sum)
		}
		if d.Confidence != d.Probs[d.Digit] {
			t.Errorf("confidence %v is not the top probability %v", d.Confidence, d.Probs[d.Digit])
		}
		prod *= d.Confidence
	}
	if diff := res.Confidence - prod; diff > 1e-9 || diff < -1e-9 {
		t.Errorf("overall confidence %v, want product %v", res.Confidence, prod)
	}
	if len(res.Inputs) != len(res.Digits) {
		t.Errorf("%d inputs kept for %d digits", len(res.Inputs), len(res.Digits))
	}
}

func TestResult_FormatFlagsImpossibleCodes(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{Format: "5"})
	c := mustWrite(t, "381", 3, 400, 200)
	res, err := r.Strokes(c.Strokes, 400, 200, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FormatError == "" {
		t.Errorf("3-digit code %q under a 5-digit format: no format error", res.Code)
	}
	res, err = r.Strokes(c.Strokes, 400, 200, recognize.Options{Format: `^\d{2,4}$`})
	if err != nil {
		t.Fatal(err)
	}
	if res.FormatError != "" {
		t.Errorf("per-call format 2..4 digits: unexpected format error %q", res.FormatError)
	}
	if _, err := r.Strokes(c.Strokes, 400, 200, recognize.Options{Format: "(["}); err == nil {
		t.Error("a broken regular expression gave no error")
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name, format, code string
		match              bool
	}{
		{"count matches", "5", "12345", true},
		{"count too short", "5", "1234", false},
		{"regexp", `^9\d{4}$`, "94107", true},
		{"regexp mismatch", `^9\d{4}$`, "84107", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := recognize.ParseFormat(tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(tt.code); got != tt.match {
				t.Errorf("%q matches %q: got %v, want %v", tt.format, tt.code, got, tt.match)
			}
		})
	}
	for _, bad := range []string{"0", "99", "(["} {
		if _, err := recognize.ParseFormat(bad); err == nil {
			t.Errorf("format %q: no error", bad)
		}
	}
}

func TestStrokes_EmptyCanvasIsNoInk(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{})
	_, err := r.Strokes(nil, 640, 200, recognize.Options{})
	if !errors.Is(err, ink.ErrNoInk) {
		t.Errorf("no strokes: got %v, want ErrNoInk", err)
	}
}

func TestClassify_BatchedJobsEqualSingleJobs(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{})
	var jobs []*recognize.Job
	var single []*recognize.Result
	for i, code := range []string{"123", "4567", "89"} {
		c := mustWrite(t, code, uint64(10+i), 500, 200)
		m, err := ink.MaskFromStrokes(c.Strokes, 500, 200)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Mask(m, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		single = append(single, res)
		j, err := r.Prepare(m, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	if err := r.Classify(jobs); err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		got, want := j.Result(), single[i]
		if got.Code != want.Code || len(got.Digits) != len(want.Digits) {
			t.Fatalf("job %d: batched %q, alone %q", i, got.Code, want.Code)
		}
		for k := range got.Digits {
			for c := range 10 {
				if d := got.Digits[k].Probs[c] - want.Digits[k].Probs[c]; d > 1e-5 || d < -1e-5 {
					t.Errorf("job %d digit %d class %d: batched %v, alone %v", i, k, c, got.Digits[k].Probs[c], want.Digits[k].Probs[c])
				}
			}
		}
	}
	other := mustRecognizer(t, recognize.Config{})
	if err := other.Classify(jobs); err == nil {
		t.Error("classifying jobs prepared by another recogniser gave no error")
	}
}

// BenchmarkStrokes_FiveDigitCode640x200 is one whole recognition of a 5-digit code from strokes: rasterising,
// segmentation, normalisation and the model.
func BenchmarkStrokes_FiveDigitCode640x200(b *testing.B) {
	r := mustRecognizer(b, recognize.Config{})
	c := mustWrite(b, "94107", 1, 640, 200)
	for b.Loop() {
		if _, err := r.Strokes(c.Strokes, 640, 200, recognize.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImage_FiveDigitCode640x200 is the same from a rendered canvas snapshot.
func BenchmarkImage_FiveDigitCode640x200(b *testing.B) {
	r := mustRecognizer(b, recognize.Config{})
	c := mustWrite(b, "94107", 1, 640, 200)
	img, err := synth.Render(c.Strokes, 640, 200, synth.Pen{Width: 6, Ink: color.Black, Background: color.White})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Image(img, recognize.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
