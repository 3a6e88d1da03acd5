package kiosk_test

import (
	"math"
	"testing"

	"digitpad/desktop/kiosk"
	"digitpad/shared/ink"
)

func maxGap(s ink.Stroke) float64 {
	g := 0.0
	for i := 1; i < len(s); i++ {
		g = max(g, math.Hypot(s[i].X-s[i-1].X, s[i].Y-s[i-1].Y))
	}
	return g
}

func TestCapture_InterpolatesSparseSamples(t *testing.T) {
	tests := []struct {
		name    string
		step    float64
		samples []ink.Point
	}{
		{"one fast move", 2, []ink.Point{{X: 0, Y: 0}, {X: 100, Y: 0}}},
		{"diagonal zigzag", 3, []ink.Point{{X: 10, Y: 10}, {X: 80, Y: 95}, {X: 5, Y: 140}, {X: 7, Y: 141}}},
		{"default step", 0, []ink.Point{{X: 0, Y: 0}, {X: 0, Y: 57}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := kiosk.NewCapture(tc.step)
			c.Down(1, tc.samples[0])
			for _, p := range tc.samples[1:] {
				if !c.Move(1, p) {
					t.Fatal("Move on a pressed pointer reported false")
				}
			}
			s, ok := c.Up(1)
			if !ok {
				t.Fatal("Up on a pressed pointer reported false")
			}
			step := tc.step
			if step <= 0 {
				step = kiosk.DefaultStep
			}
			if g := maxGap(s); g > step+1e-9 {
				t.Errorf("largest gap between points = %.2f, want <= %.2f", g, step)
			}
			if s[0] != tc.samples[0] || s[len(s)-1] != tc.samples[len(tc.samples)-1] {
				t.Errorf("stroke runs %v..%v, want the first and last samples %v..%v", s[0], s[len(s)-1],
					tc.samples[0], tc.samples[len(tc.samples)-1])
			}
			// Every sample is on the stroke, in order.
			j := 0
			for _, p := range s {
				if j < len(tc.samples) && p == tc.samples[j] {
					j++
				}
			}
			if j != len(tc.samples) {
				t.Errorf("only %d of %d samples appear in order in the stroke", j, len(tc.samples))
			}
		})
	}
}

func TestCapture_RepeatedSampleAddsNothing(t *testing.T) {
	c := kiosk.NewCapture(2)
	c.Down(0, ink.Point{X: 5, Y: 5})
	c.Move(0, ink.Point{X: 5, Y: 5})
	c.Move(0, ink.Point{X: 5, Y: 5})
	s, _ := c.Up(0)
	if len(s) != 1 {
		t.Errorf("got %d points for a pointer that never moved, want 1", len(s))
	}
}

func TestCapture_PointersDrawSeparateStrokes(t *testing.T) {
	c := kiosk.NewCapture(2)
	c.Down(7, ink.Point{X: 0, Y: 0})
	c.Down(9, ink.Point{X: 100, Y: 0})
	c.Move(7, ink.Point{X: 0, Y: 10})
	c.Move(9, ink.Point{X: 100, Y: 10})
	if got := len(c.Active()); got != 2 {
		t.Fatalf("got %d active strokes, want 2", got)
	}
	a, _ := c.Up(7)
	b, _ := c.Up(9)
	for _, p := range a {
		if p.X != 0 {
			t.Fatalf("pointer 7's stroke has a point of pointer 9: %v", p)
		}
	}
	for _, p := range b {
		if p.X != 100 {
			t.Fatalf("pointer 9's stroke has a point of pointer 7: %v", p)
		}
	}
	if len(c.Active()) != 0 {
		t.Error("strokes still active after both pointers went up")
	}
}

func TestCapture_IgnoresUnknownPointersAndBadPoints(t *testing.T) {
	c := kiosk.NewCapture(2)
	if c.Move(3, ink.Point{X: 1, Y: 1}) {
		t.Error("Move on a pointer that is not down reported true")
	}
	if _, ok := c.Up(3); ok {
		t.Error("Up on a pointer that is not down reported ok")
	}
	c.Down(3, ink.Point{X: 1, Y: 1})
	c.Move(3, ink.Point{X: math.NaN(), Y: 4})
	c.Move(3, ink.Point{X: math.Inf(1), Y: 4})
	s, _ := c.Up(3)
	if len(s) != 1 {
		t.Errorf("non-finite samples were added: %v", s)
	}
}
