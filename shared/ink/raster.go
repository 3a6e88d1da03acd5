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
	if cost, budget := RasterCost(strokes, w, h, pen), opt.maxRasterCost(); cost > budget {
		return nil, fmt.Errorf("ink: %d strokes on %dx%d would cost about %d pixel visits, over the budget of %d: %w",
			len(strokes), w, h, cost, budget, ErrTooLarge)
	}
	m := &Mask{W: w, H: h, Pix: make([]uint8, w*h), Strokes: strokes}
	c := raster[uint8]{w: w, h: h, pix: m.Pix, full: 255}
	for _, s := range strokes {
		drawStroke(&c, s, pen/2, 0, 0, 1)
	}
	return m, nil
}

// MaxCoord bounds the magnitude of a stroke coordinate, in canvas pixels: a point may lie off the canvas (a
// stroke leaving the pad) but no farther than the widest canvas the pixel limit allows; beyond it a point is
// malformed input, not ink. It keeps every length computed from points exact in float64 and within int.
const MaxCoord = DefaultMaxPixels

// checkStrokes refuses points that are not finite or farther than MaxCoord from the origin.
func checkStrokes(strokes []Stroke) error {
	for i, s := range strokes {
		for j, p := range s {
			if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
				return fmt.Errorf("ink: stroke %d point %d (%v,%v) is not finite: %w", i, j, p.X, p.Y, ErrBadInput)
			}
			if math.Abs(p.X) > MaxCoord || math.Abs(p.Y) > MaxCoord {
				return fmt.Errorf("ink: stroke %d point %d (%g,%g) is farther than %d pixels from the canvas origin: %w",
					i, j, p.X, p.Y, MaxCoord, ErrBadInput)
			}
		}
	}
	return nil
}

// RasterCost estimates the work of rasterising strokes on a w×h canvas with a pen of the given diameter, in
// pixel visits: per segment, the pixels its capsule covers plus a few per row, never more than its bounding box
// clipped to the canvas. It costs one pass over the points, so callers can refuse a request before drawing it.
func RasterCost(strokes []Stroke, w, h int, pen float64) int64 {
	R := max(pen/2, 0.5) + 0.5 // the capsule's outer radius, as capsule draws it
	var cost float64
	seg := func(a, b Point) {
		x0, x1 := max(0, min(a.X, b.X)-R-1), min(float64(w), max(a.X, b.X)+R+1)
		y0, y1 := max(0, min(a.Y, b.Y)-R-1), min(float64(h), max(a.Y, b.Y)+R+1)
		if x0 > x1 || y0 > y1 {
			cost++
			return
		}
		rows, cols := y1-y0+1, x1-x0+1
		area := (math.Hypot(b.X-a.X, b.Y-a.Y) + 2*R + 2) * (2*R + 2)
		cost += min(rows*cols, area+4*rows) + 1
	}
	for _, s := range strokes {
		if len(s) == 1 {
			seg(s[0], s[0])
		}
		for i := 1; i < len(s); i++ {
			seg(s[i-1], s[i])
		}
	}
	return int64(min(cost, math.MaxInt64/2))
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
//
// The cost is bounded by the ink, not by the segment's bounding box: each row visits only the span where the
// capsule can reach (computed in closed form, plus one pixel of margin each side for rounding), and the part of
// that span where the pen is solid is filled without measuring distances. A long diagonal stroke on a large
// canvas therefore costs its covered pixels, where the bounding box would cost the canvas.
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
	solid := T(peak*c.full + 0.5)
	if c.full == 1 {
		solid = T(peak)
	}
	plot := func(x, y int, px, py float64) {
		t := 0.0
		if l2 > 0 {
			t = ((px-ax)*dx + (py-ay)*dy) / l2
			t = floats.Min(1, floats.Max(0, t))
		}
		ex, ey := px-(ax+t*dx), py-(ay+t*dy)
		d2 := ex*ex + ey*ey
		if d2 >= outer2 {
			return
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
	seg := capsuleSpan{ax: ax, ay: ay, dx: dx, dy: dy, l2: l2, l: math.Sqrt(l2)}
	for y := y0; y <= y1; y++ {
		py := float64(y) + 0.5
		lo, hi, ok := seg.span(py, r+0.5)
		if !ok {
			continue
		}
		// Pixel x has its centre at x+0.5; one pixel of margin each side absorbs rounding in the span.
		xa := max(x0, int(math.Floor(lo-0.5))-1)
		xb := min(x1, int(math.Ceil(hi-0.5))+1)
		if xa > xb {
			continue
		}
		// The solid run: centres well inside the inner capsule (distance < r-0.5) get full ink.
		sa, sb := xb+1, xb
		if inner2 > 0 {
			if ilo, ihi, ok := seg.span(py, r-0.5); ok {
				sa = max(xa, int(math.Ceil(ilo-0.5))+1)
				sb = min(xb, int(math.Floor(ihi-0.5))-1)
				if sa > sb {
					sa, sb = xb+1, xb
				}
			}
		}
		for x := xa; x < min(sa, xb+1); x++ {
			plot(x, y, float64(x)+0.5, py)
		}
		row := c.pix[y*w : y*w+w]
		for x := sa; x <= sb; x++ {
			if solid > row[x] {
				row[x] = solid
			}
		}
		for x := max(sb+1, xa); x <= xb; x++ {
			plot(x, y, float64(x)+0.5, py)
		}
	}
}

// capsuleSpan is a segment from (ax, ay) by (dx, dy), with l2 = |d|² and l = |d|.
type capsuleSpan struct{ ax, ay, dx, dy, l2, l float64 }

// span returns the x interval where the horizontal line at py meets the capsule of radius rho around the
// segment (the open set of points closer than rho): the union of the discs at both ends and the band between
// them, which is one interval because the capsule is convex.
func (s capsuleSpan) span(py, rho float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	disc := func(cx, cy float64) {
		if d := py - cy; d*d < rho*rho {
			hw := math.Sqrt(rho*rho - d*d)
			lo, hi = min(lo, cx-hw), max(hi, cx+hw)
		}
	}
	disc(s.ax, s.ay)
	disc(s.ax+s.dx, s.ay+s.dy)
	if s.l2 > 0 {
		// The band: 0 <= (p-a)·d <= |d|² and |(p-a)×d| < rho|d|, each linear in x on this line.
		blo, bhi := math.Inf(-1), math.Inf(1)
		empty := false
		c := (py - s.ay) * s.dy
		if s.dx != 0 {
			t0, t1 := s.ax-c/s.dx, s.ax+(s.l2-c)/s.dx
			blo, bhi = max(blo, min(t0, t1)), min(bhi, max(t0, t1))
		} else if c < 0 || c > s.l2 {
			empty = true
		}
		e := (py - s.ay) * s.dx
		if s.dy != 0 {
			u0, u1 := s.ax+(e-rho*s.l)/s.dy, s.ax+(e+rho*s.l)/s.dy
			blo, bhi = max(blo, min(u0, u1)), min(bhi, max(u0, u1))
		} else if math.Abs(e) >= rho*s.l {
			empty = true
		}
		if !empty && blo <= bhi {
			lo, hi = min(lo, blo), max(hi, bhi)
		}
	}
	return lo, hi, lo <= hi
}
