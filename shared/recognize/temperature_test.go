package recognize_test

import (
	"math"
	"testing"

	"digitpad/shared/recognize"
)

func TestTemper(t *testing.T) {
	p := []float32{0.7, 0.2, 0.1}
	recognize.Temper(p, 1)
	if math.Abs(float64(p[0])-0.7) > 1e-6 {
		t.Errorf("T=1 changed probabilities: %v", p)
	}
	recognize.Temper(p, 0.5) // T = 2 flattens
	if p[0] >= 0.7 || p[2] <= 0.1 || math.Abs(float64(p[0]+p[1]+p[2])-1) > 1e-6 {
		t.Errorf("T=2: %v, want flatter probabilities summing to 1", p)
	}
	q := []float32{1, 0, 0}
	recognize.Temper(q, 2)
	if q[0] != 1 || q[1] != 0 {
		t.Errorf("certain probabilities changed: %v", q)
	}
}

// TestTemperature_ChangesConfidenceNotDigits: temperature scaling keeps every reading and moves confidence
// the way T says.
func TestTemperature_ChangesConfidenceNotDigits(t *testing.T) {
	c := mustWrite(t, "94107", 3, 640, 200)
	read := func(temp float64) *recognize.Result {
		r := mustRecognizer(t, recognize.Config{Temperature: temp})
		res, err := r.Strokes(c.Strokes, 640, 200, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	base, hot, cold := read(0), read(2), read(0.5)
	if base.Code != hot.Code || base.Code != cold.Code {
		t.Fatalf("codes %q / %q / %q differ with temperature", base.Code, hot.Code, cold.Code)
	}
	for i := range base.Digits {
		b, h, c := base.Digits[i].Confidence, hot.Digits[i].Confidence, cold.Digits[i].Confidence
		if b < 1 && !(h < b && c > b) {
			t.Errorf("digit %d: confidence %.4f at T=1, %.4f at T=2, %.4f at T=0.5", i, b, h, c)
		}
	}
	if _, err := recognize.New(mustRecognizer(t, recognize.Config{}).Model(), recognize.ModelInfo{},
		recognize.Config{Temperature: -1}); err == nil {
		t.Error("negative temperature accepted")
	}
}
