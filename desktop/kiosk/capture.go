// Package kiosk is the depot kiosk's logic, free of any graphics library: stroke capture, the pad's state
// machine, recognition off the UI goroutine, the durable outbox of feedback records, websocket sync with the
// server and model updates. The Ebiten program in desktop/cmd/digitpad-kiosk only draws an App's State and
// forwards pointer events to it.
package kiosk

import (
	"math"
	"slices"

	"digitpad/shared/ink"
)

// DefaultStep is the largest gap, in pixels, Capture leaves between consecutive points of a stroke.
const DefaultStep = 2.0

// Capture turns pointer samples into strokes, one per pointer (mouse or touch id). Pointer positions arrive
// once per frame, so a quick finger leaves samples tens of pixels apart; Capture fills each gap with points at
// most Step pixels apart, so the drawn line and the recogniser's input stay continuous.
// Capture is not safe for concurrent use.
type Capture struct {
	step   float64
	active map[int]ink.Stroke
	order  []int // pointer ids in the order their strokes began
}

// NewCapture returns a Capture that interpolates with the given step; step <= 0 means DefaultStep.
func NewCapture(step float64) *Capture {
	if step <= 0 || math.IsNaN(step) {
		step = DefaultStep
	}
	return &Capture{step: step, active: make(map[int]ink.Stroke)}
}

// Down starts a stroke for pointer id. A pointer that was already down starts over.
func (c *Capture) Down(id int, p ink.Point) {
	if !finite(p) {
		return
	}
	if _, ok := c.active[id]; !ok {
		c.order = append(c.order, id)
	}
	c.active[id] = ink.Stroke{p}
}

// Move extends pointer id's stroke to p, adding interpolated points; it reports false when id is not down.
func (c *Capture) Move(id int, p ink.Point) bool {
	s, ok := c.active[id]
	if !ok {
		return false
	}
	if !finite(p) {
		return true
	}
	c.active[id] = appendInterpolated(s, p, c.step)
	return true
}

// Up ends pointer id's stroke and returns it; ok is false when id was not down.
func (c *Capture) Up(id int) (s ink.Stroke, ok bool) {
	s, ok = c.active[id]
	if !ok {
		return nil, false
	}
	delete(c.active, id)
	c.order = slices.DeleteFunc(c.order, func(v int) bool { return v == id })
	return s, true
}

// Drawing reports whether pointer id is drawing a stroke.
func (c *Capture) Drawing(id int) bool {
	_, ok := c.active[id]
	return ok
}

// Active1 returns pointer id's stroke in progress (not a copy; do not modify).
func (c *Capture) Active1(id int) (ink.Stroke, bool) {
	s, ok := c.active[id]
	return s, ok
}

// Active returns copies of the strokes still being drawn, oldest first.
func (c *Capture) Active() []ink.Stroke {
	out := make([]ink.Stroke, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, slices.Clone(c.active[id]))
	}
	return out
}

// Cancel drops every stroke in progress.
func (c *Capture) Cancel() {
	clear(c.active)
	c.order = c.order[:0]
}

// appendInterpolated appends p to s with evenly spaced points in between, so no two consecutive points are more
// than step apart. A sample at the same place as the last point adds nothing.
func appendInterpolated(s ink.Stroke, p ink.Point, step float64) ink.Stroke {
	last := s[len(s)-1]
	dx, dy := p.X-last.X, p.Y-last.Y
	d := math.Hypot(dx, dy)
	if d == 0 {
		return s
	}
	n := int(math.Ceil(d / step))
	for i := 1; i < n; i++ {
		t := float64(i) / float64(n)
		s = append(s, ink.Point{X: last.X + dx*t, Y: last.Y + dy*t})
	}
	return append(s, p)
}

func finite(p ink.Point) bool {
	return !math.IsNaN(p.X) && !math.IsNaN(p.Y) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0)
}
