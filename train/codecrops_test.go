package train

import (
	"image"
	"testing"

	"digitpad/shared/synth"
)

func TestCodeCropSet(t *testing.T) {
	if _, err := CodeCropSet(CodeCropOptions{Writers: synth.EvalWriters, N: 10}); err == nil {
		t.Fatal("evaluation writers accepted")
	}
	o := CodeCropOptions{Writers: synth.TrainWriters, N: 60, Outliers: 12, Seed: 5, Workers: 2}
	s, err := CodeCropSet(o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 72 {
		t.Fatalf("%d crops, want 72", s.Len())
	}
	var digits [11]int
	for i, l := range s.Labels {
		digits[l]++
		ink := 0.0
		for _, v := range s.Image(i) {
			ink += float64(v)
		}
		if ink == 0 {
			t.Fatalf("crop %d is blank", i)
		}
	}
	if digits[Outlier] != 12 {
		t.Fatalf("%d wrong cuts, want 12", digits[Outlier])
	}
	for d := 0; d < 10; d++ {
		if digits[d] == 0 {
			t.Errorf("no crop of digit %d in 60: %v", d, digits)
		}
	}
	o.Workers = 1
	again, err := CodeCropSet(o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Images {
		if s.Images[i] != again.Images[i] {
			t.Fatal("crops depend on the worker count")
		}
	}
}

func TestCropLabel(t *testing.T) {
	boxes := []image.Rectangle{image.Rect(0, 0, 100, 100), image.Rect(90, 0, 190, 100), image.Rect(200, 0, 300, 100)}
	for _, c := range []struct {
		box  image.Rectangle
		want uint8
		ok   bool
	}{
		{image.Rect(2, 0, 95, 90), 0, true},           // the first digit with a sliver of the second
		{image.Rect(95, 0, 188, 90), 1, true},         // the second
		{image.Rect(0, 0, 50, 90), Outlier, true},     // half a digit
		{image.Rect(0, 0, 190, 90), Outlier, true},    // two merged
		{image.Rect(20, 0, 100, 90), 0, false},        // 80%: neither
		{image.Rect(205, 0, 300, 100), 2, true},       // the last
		{image.Rect(400, 0, 500, 100), Outlier, true}, // no digit at all
	} {
		got, ok := cropLabel(c.box, boxes)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("cropLabel(%v) = %d, %v; want %d, %v", c.box, got, ok, c.want, c.ok)
		}
	}
}
