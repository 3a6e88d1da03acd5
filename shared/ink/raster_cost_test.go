//go:build unix

package ink_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"digitpad/internal/cputime"
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
		c0 := cputime.Process()
		if _, err := ink.MaskFromStrokesOpt(strokes, 2048, 2048, opt); err != nil {
			t.Fatal(err)
		}
		if d := cputime.Process() - c0; i == 0 || d < best {
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
	c0 := cputime.Process()
	_, err := ink.MaskFromStrokes(strokes, 2048, 2048)
	took := cputime.Process() - c0
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

// Segmentation resamples each stroke segment at one pixel to cut strokes between digits, but only where the
// segment crosses a digit's ink: segments a couple of million pixels long running off the canvas (each point
// within the protocol's coordinate bound, each segment costing one pixel visit to RasterCost) used to cost
// 23 ms of CPU apiece per digit piece — 20,000 of them, hours. Now they cost next to nothing.
func TestSegmentCandidates_FarSegmentsCostNothing(t *testing.T) {
	const far = 1 << 20
	digit := ink.Stroke{{300, 40}, {330, 40}, {330, 120}}
	fence := make(ink.Stroke, 64)
	for i := range fence {
		fence[i] = ink.Point{X: -far, Y: far * float64(1-2*(i%2))}
	}
	strokes := []ink.Stroke{digit, fence, {{315, -far}, {315, far}}} // the last one crosses the digit
	var best time.Duration
	for i := range 3 {
		c0 := cputime.Process()
		m, err := ink.MaskFromStrokes(strokes, 640, 160)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ink.SegmentCandidates(m, ink.Options{}, 3); err != nil {
			t.Fatal(err)
		}
		if d := cputime.Process() - c0; i == 0 || d < best {
			best = d
		}
	}
	t.Logf("a digit with 64 far points (63 segments of %.0f px) and a 2M-px line across it: %v of CPU", 2.0*far, best)
	if best > 20*time.Millisecond {
		t.Errorf("mask and segmentation took %v of CPU, budget 20 ms (resampling whole segments took ~1.5 s)", best)
	}
}

// A point may lie off the canvas, but not farther than MaxCoord from the origin: beyond it the request is
// malformed and refused as ErrBadInput, naming the point.
func TestMaskFromStrokes_RefusesFarPoints(t *testing.T) {
	edge := ink.Stroke{{X: 10, Y: 10}, {X: -ink.MaxCoord, Y: ink.MaxCoord}}
	if _, err := ink.MaskFromStrokes([]ink.Stroke{edge}, 100, 100); err != nil {
		t.Fatalf("a point at MaxCoord: %v, want it accepted", err)
	}
	for _, p := range []ink.Point{{X: -ink.MaxCoord - 1, Y: 0}, {X: 0, Y: 1e300}} {
		_, err := ink.MaskFromStrokes([]ink.Stroke{{{X: 10, Y: 10}}, {{X: 5, Y: 5}, p}}, 100, 100)
		if !errors.Is(err, ink.ErrBadInput) || !strings.Contains(err.Error(), "stroke 1 point 1") {
			t.Errorf("point %v: err = %v, want ErrBadInput naming stroke 1 point 1", p, err)
		}
	}
}

// Cutting a group into digits searches pairs of candidate cut columns. On flat ink (a line drawn across a wide
// canvas) every column is a candidate, so the search grew with the square of the width: one stroke across a
// 4096×160 canvas cost 1–1.6 s of CPU per segmentation. Candidate columns are now bounded, so the cost stays small at any width.
func TestSegmentCandidates_WideFlatInkCostsLittle(t *testing.T) {
	for _, w := range []int{640, 4096} {
		line := ink.Stroke{{X: 4, Y: 80}, {X: float64(w - 4), Y: 82}}
		zig := make(ink.Stroke, 200)
		for i := range zig {
			zig[i] = ink.Point{X: 4 + float64(i)*float64(w-8)/199, Y: 40 + 80*float64(i%2)}
		}
		for name, s := range map[string]ink.Stroke{"line": line, "zigzag": zig} {
			var best time.Duration
			for i := range 3 {
				c0 := cputime.Process()
				m, err := ink.MaskFromStrokes([]ink.Stroke{s}, w, 160)
				if err != nil {
					t.Fatal(err)
				}
				wm, free, err := ink.SegmentFree(m, ink.Options{}, 3)
				if err != nil {
					t.Fatal(err)
				}
				for expect := 1; expect <= 8; expect++ {
					if _, _, err := free.SegmentCandidatesLattice(ink.Options{ExpectDigits: expect}, 3, 60); err != nil {
						t.Fatal(err)
					}
					if _, err := ink.SegmentCandidates(wm, ink.Options{ExpectDigits: expect}, 3); err != nil {
						t.Fatal(err)
					}
				}
				if d := cputime.Process() - c0; i == 0 || d < best {
					best = d
				}
			}
			// 16 segmentations: free + lattice and the candidate plans for 1..8 expected digits.
			per := best / 16
			t.Logf("%s across %dx160: %v of CPU per segmentation", name, w, per)
			if per > 40*time.Millisecond {
				t.Errorf("%s across %dx160: %v of CPU per segmentation, budget 40 ms (was ~600 ms at 4096)", name, w, per)
			}
		}
	}
}
