package ink

import "math"

// Scratch-out: a clerk crosses out ink by scribbling over it. A scribble is a stroke that turns back on itself
// again and again (several reversals of horizontal direction, a path several times longer than its box is
// wide) drawn over earlier ink. The scribble and the strokes it covers are erased.

const (
	scratchMinReversals = 4    // back-and-forth turns of a scribble
	scratchMinPathRatio = 3.0  // path length / box diagonal
	scratchCover        = 0.6  // share of a stroke's points inside the scribble's box for it to be erased
	scratchReversalMin  = 0.15 // a turn counts when the run before it spans this share of the box width
)

// ScratchOut reports which strokes the last stroke erases: its index and the indexes of the earlier strokes it
// covers, ascending. It returns nil when the last stroke is not a scribble or covers no earlier ink.
func ScratchOut(strokes []Stroke) []int {
	if len(strokes) < 2 {
		return nil
	}
	last := strokes[len(strokes)-1]
	if !isScribble(last) {
		return nil
	}
	x0, y0, x1, y1 := StrokeBounds(last)
	var out []int
	for i, s := range strokes[:len(strokes)-1] {
		if len(s) == 0 {
			continue
		}
		in := 0
		for _, p := range s {
			if p.X >= x0 && p.X <= x1 && p.Y >= y0 && p.Y <= y1 {
				in++
			}
		}
		if float64(in) >= scratchCover*float64(len(s)) {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, len(strokes)-1)
}

// StrokeBounds is the bounding box of a pen path's points (+Inf, -Inf when it has none).
func StrokeBounds(s Stroke) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range s {
		x0, y0, x1, y1 = min(x0, p.X), min(y0, p.Y), max(x1, p.X), max(y1, p.Y)
	}
	return x0, y0, x1, y1
}

// isScribble: many horizontal reversals, each run wide enough to count, and a long path for its box.
func isScribble(s Stroke) bool {
	if len(s) < 8 {
		return false
	}
	x0, y0, x1, y1 := StrokeBounds(s)
	w, h := x1-x0, y1-y0
	diag := math.Hypot(w, h)
	if diag == 0 || w == 0 {
		return false
	}
	length := 0.0
	for i := 1; i < len(s); i++ {
		length += math.Hypot(s[i].X-s[i-1].X, s[i].Y-s[i-1].Y)
	}
	if length < scratchMinPathRatio*diag {
		return false
	}
	reversals, dir := 0, 0
	anchor := s[0].X
	for _, p := range s[1:] {
		d := p.X - anchor
		switch {
		case dir >= 0 && d < -scratchReversalMin*w:
			if dir > 0 {
				reversals++
			}
			dir, anchor = -1, p.X
		case dir <= 0 && d > scratchReversalMin*w:
			if dir < 0 {
				reversals++
			}
			dir, anchor = 1, p.X
		case dir > 0 && p.X > anchor, dir < 0 && p.X < anchor:
			anchor = p.X
		}
	}
	return reversals >= scratchMinReversals
}
