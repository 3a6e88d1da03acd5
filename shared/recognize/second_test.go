package recognize_test

import (
	"math"
	"testing"

	"digitpad/shared/model"
	"digitpad/shared/recognize"
)

// sevenModel is a digit model that reads every input as a 7 (probability ~1): a second reader whose every
// consultation shows in the probabilities.
func sevenModel(tb testing.TB) *model.Model { return sureModel(tb, 7) }

// sureModel is a digit model that reads every input as digit (probability ~1).
func sureModel(tb testing.TB, digit int) *model.Model {
	tb.Helper()
	bias := make([]float32, 10)
	bias[digit] = 30
	g := &model.Graph{Opset: 13, Input: "x", Output: "y", InputShape: []int{1, 28, 28},
		Constants: map[string]*model.Tensor{
			"w": {Shape: []int{10, 784}, DType: model.Float, Float: make([]float32, 7840)},
			"b": {Shape: []int{10}, DType: model.Float, Float: bias},
		},
		Nodes: []*model.Node{
			{Op: "Flatten", Inputs: []string{"x"}, Output: "f", Attrs: map[string]any{"axis": int64(1)}},
			{Op: "Gemm", Inputs: []string{"f", "w", "b"}, Output: "g", Attrs: map[string]any{"transB": int64(1)}},
			{Op: "Softmax", Inputs: []string{"g"}, Output: "y", Attrs: map[string]any{"axis": int64(1)}},
		}}
	m, err := model.Compile(g)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// twoDigits are a sure digit (a bar, a 1) and a doubtful one (a faint smudge).
func twoDigits() [][784]float32 {
	var bar, smudge [784]float32
	for y := 4; y < 24; y++ {
		bar[y*28+13], bar[y*28+14] = 1, 1
	}
	for y := 9; y < 19; y++ {
		for x := 9; x < 19; x++ {
			smudge[y*28+x] = 0.3 + 0.02*float32((x*7+y*3)%10)
		}
	}
	return [][784]float32{bar, smudge}
}

// The second reader is consulted on a digit whose confidence is below its level, and only there: the sure digit
// keeps the digit model's reading exactly, the doubtful one gets the average of both models' probabilities.
func TestSecondReader_ConsultedOnDoubtfulDigitsOnly(t *testing.T) {
	in := twoDigits()
	alone, err := mustRecognizer(t, recognize.Config{}).Digits(in, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sure, doubt := alone.Digits[0].Confidence, alone.Digits[1].Confidence
	if !(sure > doubt) {
		t.Fatalf("test digits: confidences %.4f (bar) and %.4f (smudge), want the bar surer", sure, doubt)
	}
	second, err := recognize.NewSecondReader(sevenModel(t), 0, (sure+doubt)/2, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	both, err := mustRecognizer(t, recognize.Config{Second: second}).Digits(in, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := both.Digits[0]; d.Second || d.Probs != alone.Digits[0].Probs {
		t.Errorf("sure digit (%.4f, level %.4f): consulted %v, probs %v, want the digit model's %v", sure, second.Below(), d.Second, d.Probs, alone.Digits[0].Probs)
	}
	d := both.Digits[1]
	if !d.Second {
		t.Fatalf("doubtful digit (%.4f, level %.4f) was not consulted", doubt, second.Below())
	}
	for c := range 10 {
		want := 0.4 * alone.Digits[1].Probs[c]
		if c == 7 {
			want += 0.6
		}
		if math.Abs(d.Probs[c]-want) > 1e-6 {
			t.Errorf("doubtful digit: P(%d) = %.6f, want the weighted average %.6f", c, d.Probs[c], want)
		}
	}
	if d.Digit != 7 || d.Confidence != d.Probs[7] {
		t.Errorf("doubtful digit read %d at %.4f, want 7 at P(7) = %.4f", d.Digit, d.Confidence, d.Probs[7])
	}
	if want := both.Digits[0].Confidence * d.Confidence; math.Abs(both.Confidence-want) > 1e-12 || both.Code[1] != '7' {
		t.Errorf("result: code %q confidence %.6f, want the consulted digit in both (%.6f)", both.Code, both.Confidence, want)
	}
}

func TestNewSecondReader_RejectsBadLevelsAndShapes(t *testing.T) {
	m := sevenModel(t)
	for _, below := range []float64{0, -0.5, 1.5, math.NaN()} {
		if _, err := recognize.NewSecondReader(m, 1, below, 0.5); err == nil {
			t.Errorf("level %v accepted", below)
		}
		if _, err := recognize.NewSecondReader(m, 1, 0.9, below); err == nil {
			t.Errorf("weight %v accepted", below)
		}
	}
	if _, err := recognize.NewSecondReader(m, -1, 0.9, 0.5); err == nil {
		t.Error("negative temperature accepted")
	}
	if _, err := recognize.NewSecondReader(nil, 1, 0.9, 0.5); err == nil {
		t.Error("nil model accepted")
	}
}

// A second reader of several models (With) reads the same doubtful digits with each and averages them with their
// shares, the digit model keeping the rest; the sure digit keeps the digit model's reading exactly.
func TestSecondReader_WithAveragesEveryModelOnTheSameDigits(t *testing.T) {
	in := twoDigits()
	alone, err := mustRecognizer(t, recognize.Config{}).Digits(in, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sure, doubt := alone.Digits[0].Confidence, alone.Digits[1].Confidence
	second, err := recognize.NewSecondReader(sevenModel(t), 0, (sure+doubt)/2, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	three, err := second.With(sureModel(t, 3), 0, 0.45)
	if err != nil {
		t.Fatal(err)
	}
	if second.Models() != 1 || three.Models() != 2 {
		t.Fatalf("models: %d and %d, want With to leave the first reader alone (1) and add one (2)", second.Models(), three.Models())
	}
	both, err := mustRecognizer(t, recognize.Config{Second: three}).Digits(in, recognize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := both.Digits[0]; d.Second || d.Probs != alone.Digits[0].Probs {
		t.Errorf("sure digit: consulted %v, probs %v, want the digit model's %v", d.Second, d.Probs, alone.Digits[0].Probs)
	}
	d := both.Digits[1]
	if !d.Second {
		t.Fatal("doubtful digit was not consulted")
	}
	for c := range 10 {
		want := 0.25 * alone.Digits[1].Probs[c]
		switch c {
		case 7:
			want += 0.3
		case 3:
			want += 0.45
		}
		if math.Abs(d.Probs[c]-want) > 1e-6 {
			t.Errorf("doubtful digit: P(%d) = %.6f, want the weighted average %.6f", c, d.Probs[c], want)
		}
	}
	if d.Digit != 3 || both.Code[1] != '3' {
		t.Errorf("doubtful digit read %d (code %q), want 3, the largest share", d.Digit, both.Code)
	}
	if _, err := three.With(sureModel(t, 1), 0, 0.3); err == nil {
		t.Error("shares summing to 1.05 accepted")
	}
	if _, err := second.With(nil, 0, 0.3); err == nil {
		t.Error("nil model accepted")
	}
}
