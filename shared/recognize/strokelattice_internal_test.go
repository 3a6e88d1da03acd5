package recognize

import (
	"slices"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

// Strokes out of writing order give the stroke lattice no segmentation: its paths must run left to right, so the
// image reading stands.
func TestStrokeLattice_OutOfOrderHasNoPath(t *testing.T) {
	for _, i := range []int{47, 143, 467, 483} {
		_, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, 11, i, 50)
		if err != nil {
			t.Fatal(err)
		}
		c, b := sh.Code, sh.Image.Bounds()
		zero := func(*latticeEdge) float64 { return 0 }
		lat := func(strokes []ink.Stroke) *strokeLattice {
			m, _, err := StrokesMask(strokes, b.Dx(), b.Dy())
			if err != nil {
				t.Fatal(err)
			}
			return newStrokeLattice(m, ink.Options{})
		}
		if sl := lat(c.Strokes); sl == nil || sl.orderedPath(len(c.Text), zero) == nil {
			t.Fatalf("item %d as written: no stroke segmentation of %d digits", i, len(c.Text))
		}
		// Right to left, and the first digit written last.
		var rtl, firstLast []ink.Stroke
		for d := len(c.Text) - 1; d >= 0; d-- {
			for s, st := range c.Strokes {
				if c.Digit[s] == d {
					rtl = append(rtl, st)
				}
			}
		}
		for s, st := range c.Strokes {
			if c.Digit[s] != 0 {
				firstLast = append(firstLast, st)
			}
		}
		for s, st := range c.Strokes {
			if c.Digit[s] == 0 {
				firstLast = append(firstLast, st)
			}
		}
		for name, strokes := range map[string][]ink.Stroke{"right to left": rtl, "first digit last": firstLast} {
			if sl := lat(strokes); sl != nil && sl.orderedPath(len(c.Text), zero) != nil {
				t.Errorf("item %d %s: the stroke lattice has a segmentation of %d digits", i, name, len(c.Text))
			}
		}
	}
}

// A stroke that goes back inside an earlier digit joins it; one as wide as a digit starts its own unit.
func TestGroupStrokes_LateStrokes(t *testing.T) {
	b := func(x0, x1 float64) box { return box{x0, 0, x1, 100} }
	cases := []struct {
		name  string
		boxes []box
		want  [][]int
	}{
		{"in order", []box{b(0, 50), b(60, 110), b(100, 110), b(120, 170)}, [][]int{{0}, {1}, {2}, {3}}},
		{"a 1 made into a 4 at the end", []box{b(40, 50), b(60, 110), b(120, 170), b(20, 52)}, [][]int{{0, 3}, {1}, {2}}},
		{"a 7 crossed after the code", []box{b(0, 50), b(60, 110), b(120, 170), b(65, 100)}, [][]int{{0}, {1, 3}, {2}}},
		{"a whole digit written last", []box{b(0, 50), b(100, 150), b(150, 200), b(50, 100)}, [][]int{{0}, {1}, {2}, {3}}},
	}
	for _, c := range cases {
		if got := groupStrokes(c.boxes, 10); !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("%s: units %v, want %v", c.name, got, c.want)
		}
	}
}
