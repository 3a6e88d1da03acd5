package recognize_test

import (
	"encoding/json"
	"image/color"
	"math"
	"slices"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// TestConfirmDigits_CodeConfidenceDecides: a code asks when the product of its digits' confidences is below the
// threshold, and the digits flagged are the fewest least confident ones whose check lifts the rest to it.
func TestConfirmDigits_CodeConfidenceDecides(t *testing.T) {
	tests := []struct {
		name      string
		conf      []float64
		threshold float64
		want      []int
	}{
		{"a sure code passes", []float64{0.999, 0.998, 0.999, 0.997, 0.999}, 0.95, []int{}},
		{"one doubtful digit", []float64{0.999, 0.90, 0.999, 0.997, 0.999}, 0.95, []int{1}},
		{"a digit above the threshold passes on its own", []float64{0.999, 0.96, 0.999, 0.997, 0.999}, 0.95, []int{}},
		// Every digit is above 0.95, but the code is right with probability 0.90: checking one 0.97 leaves
		// 0.93, two leave 0.96.
		{"small doubts add up", []float64{0.99, 0.97, 0.999, 0.97, 0.97}, 0.95, []int{1, 3}},
		{"ties go to the first", []float64{0.9, 0.9, 0.999}, 0.95, []int{0, 1}},
		{"a threshold above 1 flags every digit", []float64{1, 1}, 1.5, []int{0, 1}},
		{"no digits", nil, 0.95, []int{}},
		{"zero confidence", []float64{0, 0.999}, 0.95, []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := recognize.ConfirmDigits(tc.conf, tc.threshold)
			if got == nil || !slices.Equal(got, tc.want) {
				t.Errorf("ConfirmDigits(%v, %v) = %v, want %v", tc.conf, tc.threshold, got, tc.want)
			}
		})
	}
}

// TestConfirmDigits_EveryDigitBelowThresholdIsFlagged: whatever the rest of the code, a digit less sure than
// the threshold on its own is always among the flagged ones, and the unflagged rest reaches the threshold.
func TestConfirmDigits_EveryDigitBelowThresholdIsFlagged(t *testing.T) {
	codes := [][]float64{
		{0.5, 0.99, 0.97, 0.96, 0.999},
		{0.94, 0.94, 0.94, 0.94, 0.94},
		{0.999, 0.98, 0.98, 0.98, 0.98},
	}
	for _, conf := range codes {
		const threshold = 0.95
		flagged := recognize.ConfirmDigits(conf, threshold)
		rest := 1.0
		for i, c := range conf {
			if c < threshold && !slices.Contains(flagged, i) {
				t.Errorf("%v: digit %d at %v not flagged (%v)", conf, i, c, flagged)
			}
			if !slices.Contains(flagged, i) {
				rest *= c
			}
		}
		if rest < threshold {
			t.Errorf("%v: flagged %v leave the rest at %v < %v", conf, flagged, rest, threshold)
		}
	}
}

// code is a 5-digit code of digits 40 pixels tall, 30 apart, with the given labels and confidences; short
// digits are 32 pixels tall (0.8 of the code's height), standing on the same baseline.
func code(labels []int, conf []float64, short ...int) []recognize.Digit {
	ds := make([]recognize.Digit, len(labels))
	for i, l := range labels {
		top := 10
		if slices.Contains(short, i) {
			top = 18
		}
		ds[i] = recognize.Digit{Digit: l, Confidence: conf[i], Box: [4]int{30 * i, top, 30*i + 20, 50}}
		ds[i].Probs[l] = conf[i]
	}
	return ds
}

// TestConfirmModel_ShapeDecides: with the shipped kind of confirm model and its (lower) threshold, a code of
// ordinary digits whose small doubts add up passes, where the code confidence alone at its own threshold asked;
// a confident "1" shorter than its neighbours (a 7 without its bar) asks and is the digit flagged, where the code
// confidence alone let it pass.
func TestConfirmModel_ShapeDecides(t *testing.T) {
	m := recognize.ConfirmModel{Short: 0.155, ShortOne: 0.916}
	const threshold, productThreshold = 0.887, 0.959
	doubts := code([]int{2, 3, 5, 8, 9}, []float64{0.99, 0.98, 0.98, 0.99, 0.98})
	if got := (recognize.ConfirmModel{}).Confirm(doubts, productThreshold); len(got) == 0 {
		t.Errorf("code confidence alone: want the code of small doubts to ask, flagged %v", got)
	}
	if got := m.Confirm(doubts, threshold); len(got) != 0 {
		t.Errorf("confirm model: want the code of small doubts to pass, flagged %v", got)
	}
	shortOne := code([]int{7, 1, 2, 6, 4}, []float64{0.999, 0.995, 0.999, 0.999, 0.999}, 1)
	if got := (recognize.ConfirmModel{}).Confirm(shortOne, productThreshold); len(got) != 0 {
		t.Errorf("code confidence alone: want the short confident 1 to pass, flagged %v", got)
	}
	if got := m.Confirm(shortOne, threshold); !slices.Equal(got, []int{1}) {
		t.Errorf("confirm model: flagged %v, want the short 1 [1]", got)
	}
	// A short digit read as something else costs less: 0.99 · 0.8^0.155 = 0.956 passes.
	shortZero := code([]int{7, 0, 2, 6, 4}, []float64{0.999, 0.99, 0.999, 0.999, 0.999}, 1)
	if got := m.Confirm(shortZero, threshold); len(got) != 0 {
		t.Errorf("confirm model: short 0 at 0.99 flagged %v, want none", got)
	}
}

// TestConfirmModel_PairDigitsWeighedApart: the pair weight rescales only the confidences of digits the pair
// reader read (confidence^(1 − pair)): a code whose two pair digits read 0.8 passes at 0.7 (0.8^0.5 · 0.8^0.5 =
// 0.8) where the same confidences from the digit model ask (flagging the first, which lifts the rest to 0.8), and
// is flagged on the digit-model digit when that one is doubtful too; a card without the weight (zero) reads pair digits as they are.
func TestConfirmModel_PairDigitsWeighedApart(t *testing.T) {
	m := recognize.ConfirmModel{Pair: 0.5}
	ds := code([]int{3, 4, 5, 6, 7}, []float64{0.8, 0.8, 1, 1, 1})
	if got := m.Confirm(ds, 0.7); !slices.Equal(got, []int{0}) {
		t.Errorf("digit-model digits at 0.8: flagged %v, want [0]", got)
	}
	ds[0].Pair, ds[1].Pair = true, true
	if got := m.Confirm(ds, 0.7); len(got) != 0 {
		t.Errorf("pair digits at 0.8 with pair 0.5: flagged %v, want none", got)
	}
	if got := (recognize.ConfirmModel{}).Confirm(ds, 0.7); !slices.Equal(got, []int{0}) {
		t.Errorf("pair digits without the pair weight: flagged %v, want [0]", got)
	}
	ds[2].Confidence = 0.8
	if got := m.Confirm(ds, 0.7); !slices.Equal(got, []int{2}) {
		t.Errorf("pair digits and a doubtful digit-model digit: flagged %v, want [2]", got)
	}
	if got := m.Score(recognize.Doubt{Confidence: 0.64, Pair: true}); math.Abs(got-0.8) > 1e-12 {
		t.Errorf("pair digit 0.64 scores %v, want 0.8", got)
	}
}

// TestConfirmModel_CardsWithoutPairReadAsBefore: a card's confirm_model without pair (before the weight) parses
// to a zero pair weight, and one with it keeps it.
func TestConfirmModel_CardsWithoutPairReadAsBefore(t *testing.T) {
	var old, cur recognize.ConfirmModel
	if err := json.Unmarshal([]byte(`{"short":0.39,"short_one":1.68}`), &old); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"short":0.39,"short_one":1.68,"pair":0.45}`), &cur); err != nil {
		t.Fatal(err)
	}
	if old != (recognize.ConfirmModel{Short: 0.39, ShortOne: 1.68}) || cur.Pair != 0.45 {
		t.Errorf("parsed %+v and %+v", old, cur)
	}
	if b, _ := json.Marshal(old); string(b) != `{"short":0.39,"short_one":1.68}` {
		t.Errorf("a model without a pair weight writes %s", b)
	}
}

// TestConfirmModel_ZeroIsCodeConfidence: a card without confirm_model (the zero model) decides and flags
// exactly as the code confidence did, whatever the digits' shapes.
func TestConfirmModel_ZeroIsCodeConfidence(t *testing.T) {
	ds := code([]int{1, 1, 7, 0, 4}, []float64{0.97, 0.5, 0.999, 0.93, 0.96}, 0, 1)
	for _, th := range []float64{0.3, 0.5, 0.9, 0.99} {
		conf := make([]float64, len(ds))
		for i, d := range ds {
			conf[i] = d.Confidence
		}
		if got, want := (recognize.ConfirmModel{}).Confirm(ds, th), recognize.ConfirmDigits(conf, th); !slices.Equal(got, want) {
			t.Errorf("threshold %v: zero model flagged %v, code confidence %v", th, got, want)
		}
	}
}

// TestDoubts_ShortAgainstTheCodesMedianHeight: shortness is -ln(height / median height) for digits shorter than
// the median, 0 otherwise; a lone digit is never short.
func TestDoubts_ShortAgainstTheCodesMedianHeight(t *testing.T) {
	ds := recognize.Doubts(code([]int{1, 4, 4, 4, 4}, []float64{0.9, 1, 1, 1, 1}, 0))
	if d := ds[0]; !d.One || d.Confidence != 0.9 || math.Abs(d.Short-math.Log(40.0/32)) > 1e-12 {
		t.Errorf("short 1: %+v, want One, 0.9, short %v", d, math.Log(40.0/32))
	}
	for _, d := range ds[1:] {
		if d.Short != 0 || d.One {
			t.Errorf("tall 4: %+v", d)
		}
	}
	if ds := recognize.Doubts(code([]int{1}, []float64{0.9}, 0)); ds[0].Short != 0 {
		t.Errorf("lone digit: %+v", ds[0])
	}
	if ds := recognize.Doubts(nil); len(ds) != 0 {
		t.Errorf("no digits: %v", ds)
	}
}

// TestRecognizer_AppliesTheConfigsConfirmModel: Result.Confirm is the configured confirm model's decision on
// the result's digits, and on codes with digits shorter than their neighbours that differs from the code
// confidence's.
func TestRecognizer_AppliesTheConfigsConfirmModel(t *testing.T) {
	m := recognize.ConfirmModel{Short: 20, ShortOne: 20}
	const threshold = 0.5
	r := mustRecognizer(t, recognize.Config{Threshold: threshold, Confirm: m, Format: "5"})
	differs := 0
	for i := 0; i < 40 && differs == 0; i++ {
		img, _, err := synth.SetCanvas(synth.ValWriters, synth.Codes5, 1, i, 100)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Image(img, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := m.Confirm(res.Digits, threshold); !slices.Equal(res.Confirm, want) {
			t.Fatalf("code %d: confirm %v, want the model's %v", i, res.Confirm, want)
		}
		if !slices.Equal(res.Confirm, (recognize.ConfirmModel{}).Confirm(res.Digits, threshold)) {
			differs++
		}
	}
	if differs == 0 {
		t.Error("no code of 40 where the confirm model decided differently from the code confidence")
	}
}

// TestRecognizer_StrokeInputHasItsOwnPolicy: stroke input (pen paths) is asked by the stroke confirm policy and
// image input by the image one; without a stroke threshold, stroke input follows the image policy.
func TestRecognizer_StrokeInputHasItsOwnPolicy(t *testing.T) {
	c := mustWrite(t, "381", 3, 400, 200)
	img, err := synth.Render(c.Strokes, 400, 200, synth.Pen{Width: 6, Ink: color.Black, Background: color.White})
	if err != nil {
		t.Fatal(err)
	}
	read := func(r *recognize.Recognizer) (byStrokes, byImage *recognize.Result) {
		t.Helper()
		byStrokes, err := r.Strokes(c.Strokes, 400, 200, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if byImage, err = r.Image(img, recognize.Options{}); err != nil {
			t.Fatal(err)
		}
		return byStrokes, byImage
	}
	// Images never ask, strokes always do (a threshold above 1 flags every digit).
	r := mustRecognizer(t, recognize.Config{Threshold: 1e-9, StrokeThreshold: 1.0000001})
	if r.StrokeThreshold() != 1.0000001 || r.Threshold() != 1e-9 {
		t.Errorf("thresholds %v (image) %v (strokes)", r.Threshold(), r.StrokeThreshold())
	}
	s, i := read(r)
	if len(s.Confirm) != len(s.Digits) || len(s.Digits) == 0 {
		t.Errorf("strokes: confirm %v of %d digits, want all (stroke threshold above 1)", s.Confirm, len(s.Digits))
	}
	if len(i.Confirm) != 0 {
		t.Errorf("image: confirm %v, want none (image threshold 1e-9)", i.Confirm)
	}
	// The stroke confirm model scores stroke input.
	m := recognize.ConfirmModel{Short: 20, ShortOne: 20}
	r = mustRecognizer(t, recognize.Config{Threshold: 0.5, StrokeThreshold: 0.7, StrokeConfirm: m})
	if s, _ := read(r); !slices.Equal(s.Confirm, m.Confirm(s.Digits, 0.7)) {
		t.Errorf("strokes: confirm %v, want the stroke model's %v", s.Confirm, m.Confirm(s.Digits, 0.7))
	}
	// No stroke threshold: stroke input follows the image policy.
	r = mustRecognizer(t, recognize.Config{Threshold: 1.0000001, StrokeConfirm: m})
	if r.StrokeThreshold() != r.Threshold() {
		t.Errorf("no stroke threshold: %v, want the image threshold %v", r.StrokeThreshold(), r.Threshold())
	}
	if s, _ := read(r); len(s.Confirm) != len(s.Digits) {
		t.Errorf("no stroke threshold: strokes confirm %v of %d digits, want all (image threshold above 1)", s.Confirm, len(s.Digits))
	}
}

// TestCalibration_OperatorThresholdWinsForEveryInput: a card's stroke policy configures stroke input unless an
// operator sets a threshold, which then holds for strokes too (with the image confirm model).
func TestCalibration_OperatorThresholdWinsForEveryInput(t *testing.T) {
	cal := recognize.Calibration{Threshold: 0.9, Confirm: recognize.ConfirmModel{Short: 1},
		StrokeThreshold: 0.8, StrokeConfirm: recognize.ConfirmModel{Short: 2}}
	cfg := cal.Configure(recognize.Config{})
	if cfg.Threshold != 0.9 || cfg.StrokeThreshold != 0.8 || cfg.StrokeConfirm != cal.StrokeConfirm || cfg.Confirm != cal.Confirm {
		t.Errorf("card: %+v", cfg)
	}
	cfg = cal.Configure(recognize.Config{Threshold: 0.5})
	if cfg.Threshold != 0.5 || cfg.StrokeThreshold != 0 || cfg.StrokeConfirm != (recognize.ConfirmModel{}) {
		t.Errorf("operator threshold 0.5: %+v, want no stroke policy (strokes follow 0.5)", cfg)
	}
	if r := mustRecognizer(t, cfg); r.StrokeThreshold() != 0.5 {
		t.Errorf("operator threshold 0.5: stroke threshold %v", r.StrokeThreshold())
	}
}

// TestConfirmModel_EdgeDigitsWeighedApart: the edge weight lowers only the score of a digit at the canvas's
// edge, by exp(−edge), and a model without it scores such digits as before.
func TestConfirmModel_EdgeDigitsWeighedApart(t *testing.T) {
	m := recognize.ConfirmModel{Edge: 0.2}
	ds := code([]int{3, 4, 5, 6, 7}, []float64{0.99, 0.99, 0.99, 0.99, 0.95})
	if got := m.Confirm(ds, 0.9); len(got) != 0 {
		t.Errorf("no digit at the edge: flagged %v, want none", got)
	}
	ds[4].Edge = true
	if got := m.Confirm(ds, 0.9); !slices.Equal(got, []int{4}) {
		t.Errorf("doubtful digit at the edge: flagged %v, want [4]", got)
	}
	if got := (recognize.ConfirmModel{}).Confirm(ds, 0.9); len(got) != 0 {
		t.Errorf("digit at the edge without the edge weight: flagged %v, want none", got)
	}
	if got, want := m.Score(recognize.Doubt{Confidence: 0.95, Edge: true}), 0.95*math.Exp(-0.2); math.Abs(got-want) > 1e-12 {
		t.Errorf("edge digit 0.95 scores %v, want %v", got, want)
	}
	if ds := recognize.Doubts(ds); !ds[4].Edge || ds[3].Edge {
		t.Errorf("doubts %+v: want only the last at the edge", ds)
	}
}

// TestResult_MarksDigitsAtTheCanvasEdge: a code written past the canvas's left edge has its first digit marked
// Edge, from strokes and from the image; the same code written in the middle has none.
func TestResult_MarksDigitsAtTheCanvasEdge(t *testing.T) {
	c := mustWrite(t, "381", 3, 400, 200)
	x0 := math.Inf(1)
	for _, s := range c.Strokes {
		for _, p := range s {
			x0 = min(x0, p.X)
		}
	}
	shifted := make([]ink.Stroke, len(c.Strokes))
	for i, s := range c.Strokes {
		shifted[i] = make(ink.Stroke, len(s))
		for k, p := range s {
			shifted[i][k] = ink.Point{X: p.X - x0 - 6, Y: p.Y}
		}
	}
	r := mustRecognizer(t, recognize.Config{})
	edges := func(res *recognize.Result) []bool {
		out := make([]bool, len(res.Digits))
		for i, d := range res.Digits {
			out[i] = d.Edge
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		strokes []ink.Stroke
		want    []bool
	}{{"in the middle", c.Strokes, []bool{false, false, false}}, {"past the left edge", shifted, []bool{true, false, false}}} {
		byStrokes, err := r.Strokes(tc.strokes, 400, 200, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		img, err := synth.Render(tc.strokes, 400, 200, synth.Pen{Width: 6, Ink: color.Black, Background: color.White})
		if err != nil {
			t.Fatal(err)
		}
		byImage, err := r.Image(img, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for what, res := range map[string]*recognize.Result{"strokes": byStrokes, "image": byImage} {
			if got := edges(res); !slices.Equal(got, tc.want) {
				t.Errorf("%s, %s: read %q, edge %v, want %v", tc.name, what, res.Code, got, tc.want)
			}
		}
	}
}
