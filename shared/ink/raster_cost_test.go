//go:build unix

package ink_test

import (
	"errors"
	"testing"
	"time"

	"digitpad/shared/ink"
)

// zigzag is the hostile stroke of issue 18: n points bouncing between opposite corners of a size×size canvas,
// each segment a canvas diagonal (2.2 KB of JSON for 200 points).
func zigzag(n int, size float64) []ink.Stroke {
	s := make(ink.Stroke, n)
	for i := range s {
		s[i] = ink.Point{X: float64(i%2) * (size - 1), Y: float64((i/2)%2) * (size - 1)}
	}
	return []ink.Stroke{s}
}

// Drawing costs the pixels the pen covers, not each segment's bounding box: the 200-point zigzag drawn at full
// size on 2048×2048 (pen 51 px; ~29 M covered-pixel visits, which the bounding-box rasteriser made 1.4 s of CPU)
// stays within a budget proportional to its ink. The budget is CPU time, measured with getrusage.
func TestMaskFromStrokes_CostFollowsInk(t *testing.T) {
	strokes := zigzag(200, 2048)
	opt := ink.Options{MaxRasterCost: 1 << 40} // measure the drawing, not the refusal
	var best time.Duration
	for i := range 3 { // best of three: a neighbour's burst on the shared host only adds time
		c0 := cpuTime()
		if _, err := ink.MaskFromStrokesOpt(strokes, 2048, 2048, opt); err != nil {
			t.Fatal(err)
		}
		if d := cpuTime() - c0; i == 0 || d < best {
			best = d
		}
	}
	t.Logf("200-point zigzag drawn at 2048×2048: %v of CPU (estimated %d pixel visits)", best,
		ink.RasterCost(strokes, 2048, 2048, 2048.0/40))
	if best > 300*time.Millisecond {
		t.Errorf("drawing took %v of CPU, budget 300 ms (the bounding-box rasteriser took ~1.4 s)", best)
	}
}

// A request whose drawing would exceed the budget is refused before anything is drawn: 20,000 canvas-wide
// zigzag points cost next to nothing to refuse.
func TestMaskFromStrokes_RefusesOverBudgetBeforeDrawing(t *testing.T) {
	strokes := zigzag(20000, 2048)
	c0 := cpuTime()
	_, err := ink.MaskFromStrokes(strokes, 2048, 2048)
	took := cpuTime() - c0
	if !errors.Is(err, ink.ErrTooLarge) {
		t.Fatalf("MaskFromStrokes(20,000-point zigzag) error = %v, want ErrTooLarge", err)
	}
	t.Logf("refused in %v of CPU: %v", took, err)
	if took > 20*time.Millisecond {
		t.Errorf("refusal took %v of CPU, budget 20 ms: the cost must be checked before drawing", took)
	}
	// A pad's real strokes are far inside the budget.
	pad := zigzag(400, 20) // dense scribble within a digit-sized box
	if c := ink.RasterCost(pad, 640, 160, 4); c > ink.DefaultMaxRasterCost/100 {
		t.Errorf("a 400-point scribble costs %d, over 1%% of the budget %d", c, ink.DefaultMaxRasterCost)
	}
}
