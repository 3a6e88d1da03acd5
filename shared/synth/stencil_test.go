package synth_test

import (
	"reflect"
	"testing"

	"digitpad/shared/synth"
)

func TestWrite_StencilHand(t *testing.T) {
	stencil := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = synth.Stencil
		}
		return s
	}
	c := mustWrite(t, "0123456789", synth.Params{Height: 100, Styles: stencil(10)})
	strokes := make([]int, 10)
	for _, d := range c.Digit {
		strokes[d]++
	}
	// Only the 4 (bar, then the stem) and the 8 (the box, then its middle bar) lift the pen.
	if want := []int{1, 1, 1, 1, 2, 1, 1, 1, 2, 1}; !reflect.DeepEqual(strokes, want) {
		t.Errorf("strokes per digit %v, want %v", strokes, want)
	}
	// The 1's flag starts at mid-height on the left and its stem ends at the bottom right (the spline overshoots
	// the corner at the top a little, so the stem is not quite the box's right edge).
	var one []float64
	for i, d := range c.Digit {
		if d == 1 {
			s := c.Strokes[i]
			b := c.Boxes[1]
			one = []float64{(s[0].X - float64(b.Min.X)) / float64(b.Dx()), (s[0].Y - float64(b.Min.Y)) / float64(b.Dy()),
				(s[len(s)-1].X - float64(b.Min.X)) / float64(b.Dx()), (s[len(s)-1].Y - float64(b.Min.Y)) / float64(b.Dy())}
		}
	}
	if one[0] > 0.05 || one[1] < 0.4 || one[1] > 0.6 || one[2] < 0.85 || one[3] < 0.95 {
		t.Errorf("stencil 1 runs from (%.2f, %.2f) to (%.2f, %.2f) of its box, want from the left at mid-height to the bottom right", one[0], one[1], one[2], one[3])
	}
	// Other style numbers out of the font's range still mean a random style, as before the stencil existed.
	p := synth.Params{Seed: 7, Height: 100}
	a := mustWrite(t, "8", p)
	p.Styles = []int{synth.Stencil + 1}
	if b := mustWrite(t, "8", p); !reflect.DeepEqual(a.Strokes, b.Strokes) {
		t.Error("style Stencil+1 did not mean a random style")
	}
	p.Styles = []int{synth.Stencil}
	if b := mustWrite(t, "8", p); reflect.DeepEqual(a.Strokes, b.Strokes) {
		t.Error("style Stencil wrote the random style's 8")
	}
}
