//go:build unix

package recognize_test

import (
	"testing"
	"time"

	"digitpad/internal/cputime"
	"digitpad/shared/ink"
	"digitpad/shared/recognize"
)

// The hostile request of issue 18 — 200 zigzag points across a 2048×2048 canvas, 2.2 KB of JSON, which cost
// 3.7 s of CPU on the server — costs less than 50 ms of CPU to prepare (rasterise at the working height and
// segment: StrokesMask + Prepare), as the server's engine does it. Measured with getrusage, best of three.
func TestStrokes_ZigzagPreparedWithinCPUBudget(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{})
	s := make(ink.Stroke, 200)
	for i := range s {
		s[i] = ink.Point{X: float64(i%2) * 2047, Y: float64((i/2)%2) * 2047}
	}
	var best time.Duration
	for i := range 3 {
		c0 := cputime.Process()
		m, _, err := recognize.StrokesMask([]ink.Stroke{s}, 2048, 2048)
		if err != nil {
			t.Fatal(err)
		}
		j, err := r.Prepare(m, recognize.Options{})
		d := cputime.Process() - c0
		if err != nil {
			t.Fatal(err)
		}
		if j.Len() == 0 {
			t.Fatal("the zigzag gave no digit to classify")
		}
		if i == 0 || d < best {
			best = d
		}
	}
	t.Logf("200-point zigzag on 2048×2048 prepared in %v of CPU", best)
	if best > 50*time.Millisecond {
		t.Errorf("prepare took %v of CPU, budget 50 ms", best)
	}
}
