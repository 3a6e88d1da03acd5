package ink

import (
	"fmt"
	"math"

	"digitpad/shared/internal/floats"
)

// MaskFromStrokesOpt is MaskFromStrokes with options (PenWidth, MaxPixels). The returned mask keeps the strokes
// so Segment can render digit inputs from the pen paths.
func MaskFromStrokesOpt(strokes []Stroke, w, h int, opt Options) (*Mask, error) {
	if err := opt.checkSize(w, h); err != nil {
		return nil, err
	}
	if err := checkStrokes(strokes); err != nil {
		return nil, err
	}
	pen := opt.PenWidth
	if pen <= 0 {
		pen = PenWidth(w, h)
	}
	m := &Mask{W: w, H: h, Pix: make([]uint8, w*h), Strokes: strokes}
	c := raster[uint8]{w: w, h: h, pix: m.Pix, full: 255}
	for _, s := range strokes {
		drawStroke(&c, s, pen/2, 0, 0, 1)
	}
	return m, nil
}

func checkStrokes(strokes []Stroke) error {
	for i, s := range strokes {
		for j, p := range s {
			if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
				return fmt.Errorf("ink: stroke %d point %d (%v,%v) is not finite: %w", i, j, p.X, p.Y, ErrBadInput)
			}
		}
	}
	return nil
}

// raster is a coverage buffer; plots keep the maximum so overlapping segments of one stroke do not darken
// their joints. Full is the value of full ink (255 or 1).
type raster[T uint8 | float32] struct {
	w, h int
	pix  []T
	full float64
}

// drawStroke draws a polyline as a chain of capsules (a round pen of radius r) after mapping each point p to
// ((p - origin) * scale). Consecutive samples are joined by straight segments, so sparse pointer samples
// still give a continuous line.
func drawStroke[T uint8 | float32](c *raster[T], s Stroke, r float64, ox, oy, scale float64) {
	if len(s) == 0 {
		return
	}
	tr := func(p Point) (float64, float64) { return (p.X - ox) * scale, (p.Y - oy) * scale }
	ax, ay := tr(s[0])
	if len(s) == 1 {
		capsule(c, ax, ay, ax, ay, r)
		return
	}
	for _, p := range s[1:] {
		bx, by := tr(p)
		capsule(c, ax, ay, bx, by, r)
		ax, ay = bx, by
	}
}

// capsule plots coverage clamp(r + 0.5 - distance(pixel centre, segment)), a one-pixel-wide linear ramp that
// approximates area coverage of a disc swept along the segment. Pens thinner than a pixel keep their ink
// amount by lowering the peak instead of vanishing.
func capsule[T uint8 | float32](c *raster[T], ax, ay, bx, by, r float64) {
	w, h := c.w, c.h
	peak := 1.0
	if r < 0.5 {
		peak = 2 * r
		r = 0.5
	}
	x0 := max(0, int(math.Floor(min(ax, bx)-r-1)))
	x1 := min(w-1, int(math.Ceil(max(ax, bx)+r+1)))
	y0 := max(0, int(math.Floor(min(ay, by)-r-1)))
	y1 := min(h-1, int(math.Ceil(max(ay, by)+r+1)))
	if x0 > x1 || y0 > y1 {
		return
	}
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	// Squared radii bound the anti-aliased rim: outside it nothing, inside it full ink, so the square root
	// is taken only on the rim.
	outer2 := (r + 0.5) * (r + 0.5)
	inner2 := 0.0
	if r > 0.5 {
		inner2 = (r - 0.5) * (r - 0.5)
	}
	for y := y0; y <= y1; y++ {
		py := float64(y) + 0.5
		for x := x0; x <= x1; x++ {
			px := float64(x) + 0.5
			t := 0.0
			if l2 > 0 {
				t = ((px-ax)*dx + (py-ay)*dy) / l2
				t = floats.Min(1, floats.Max(0, t))
			}
			ex, ey := px-(ax+t*dx), py-(ay+t*dy)
			d2 := ex*ex + ey*ey
			if d2 >= outer2 {
				continue
			}
			cov := 1.0
			if d2 > inner2 {
				cov = r + 0.5 - math.Sqrt(d2)
			}
			v := T(floats.Min(1, cov)*peak*c.full + 0.5)
			if c.full == 1 {
				v = T(floats.Min(1, cov) * peak)
			}
			if i := y*w + x; v > c.pix[i] {
				c.pix[i] = v
			}
		}
	}
}
