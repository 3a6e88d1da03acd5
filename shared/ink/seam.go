package ink

import "math"

// cutPath is a cut between two touching digits that follows the gap between their strokes instead of a
// vertical line: on row y the pixels left of at(y) belong to the left piece. Above and below the rows it was
// traced on it continues straight.
type cutPath struct {
	y0     int
	xs     []int32
	anchor int // the column it crosses at the group's mid-height: with the group, it names the path
}

func (c *cutPath) at(y int) int {
	i := min(max(y-c.y0, 0), len(c.xs)-1)
	return int(c.xs[i])
}

// seams holds, for one group, the cheapest top-to-bottom cut through every column at mid-height (a
// shortest path through the ink, as in drop-fall or seam carving): a cut may bend around a stroke and slip
// between slanted or overlapping neighbours where every vertical line would cross ink.
type seams struct {
	x0, y0, w, h, ymid int
	// cost[c] is the ink (pixels at or above inkThreshold) crossed by the best cut through column x0+c at
	// row y0+ymid, plus its bending penalty.
	cost []float64
	// down[y*w+x] (rows above mid-height and the mid row) is the step (-1, 0, 1) to the column of the best
	// path on the row above; up[y*w+x] (rows below and the mid row) the same to the row below.
	down, up []int8
}

// groupSeams traces the cuts of g. A step sideways costs bend ink pixels: a detour of a quarter of the code
// height costs about as much as crossing one stroke, so cuts follow gaps but do not wander around digits.
func (lay *layout) groupSeams(g *group) *seams {
	if g.seams != nil {
		return g.seams
	}
	w, h := g.w(), g.h()
	// The steps of both sweeps and the mid-height costs stay with the group (path, cutCrossings); the ink and the
	// sweep rows are scratch, on the stack for a small group.
	steps := make([]int8, 2*w*h)
	s := &seams{x0: g.x0, y0: g.y0, w: w, h: h, ymid: h / 2, cost: make([]float64, w), down: steps[: w*h : w*h], up: steps[w*h:]}
	var inkStack [seamStack]uint8
	var rowStack [4 * seamStackW]float64
	ink, fs := inkStack[:0], rowStack[:0]
	if w*h > len(inkStack) {
		ink = make([]uint8, 0, w*h)
	}
	if 4*w > len(rowStack) {
		fs = make([]float64, 0, 4*w)
	}
	// ink[y*w+x] is 1 on ink.
	ink, fs = ink[:w*h], fs[:4*w]
	in := lay.compSet(g.comps)
	for _, r := range lay.l.runs[lay.l.rowStart[g.y0]:lay.l.rowStart[g.y1]] {
		if in(r.comp) {
			o := (int(r.y)-g.y0)*w - g.x0
			row := ink[o+int(r.x0) : o+int(r.x1)]
			for x := range row {
				row[x] = 1
			}
		}
	}
	sw := lay.seamSweep(ink, w)
	// Two sweeps meet at mid-height: from the top row down to ymid and from the bottom row up to it.
	down := sw.run(0, s.ymid, 1, s.down, fs[:w:w], fs[w:2*w:2*w])
	up := sw.run(h-1, s.ymid, -1, s.up, fs[2*w:3*w:3*w], fs[3*w:])
	// Both sweeps counted the mid-height row.
	mid := ink[s.ymid*w : (s.ymid+1)*w]
	for x := range s.cost {
		s.cost[x] = down[x] + up[x] - sw.cost(mid, x)
	}
	g.seams = s
	return s
}

// seamSweep prices the sweeps over a group's ink (w per row, 1 on ink). A step sideways costs bend ink pixels: a
// detour of a quarter of the code height costs about as much as crossing one stroke. A cut keeps a sliver's width
// off the group's sides (its first and last margin columns cost offSide a row): running down its outline it would
// cut nothing off.
func (lay *layout) seamSweep(ink []uint8, w int) seamSweep {
	bend := lay.penW / math.Max(1, 0.25*lay.codeH)
	margin := min(int(math.Max(3, 0.05*lay.codeH)), (w-1)/2)
	return seamSweep{ink: ink, w: w, margin: margin, bend: bend}
}

// seamSweep is one group's ink and prices for the seam sweeps.
type seamSweep struct {
	ink    []uint8 // w per row, 1 on ink
	w      int
	margin int     // columns at each side a cut keeps off (offSide a row)
	bend   float64 // price of a step sideways
}

// cost is the price of crossing column x of an ink row.
func (sw *seamSweep) cost(row []uint8, x int) float64 {
	if x < sw.margin || x >= sw.w-sw.margin {
		return offSide
	}
	return float64(row[x])
}

// run sweeps rows from, from+dir, ..., to: the cheapest path from row from to each column of row to, with the
// step taken on each row after the first written to steps (w per row, -1, 0 or 1: to the column of the best path
// on the previous row). acc and next are w-long scratch rows; the result is one of them.
func (sw *seamSweep) run(from, to, dir int, steps []int8, acc, next []float64) []float64 {
	w, m, bend := sw.w, sw.margin, sw.bend
	acc, next = acc[:w], next[:w]
	row := sw.ink[from*w : (from+1)*w]
	for x := range acc {
		acc[x] = sw.cost(row, x)
	}
	for y := from + dir; y != to+dir; y += dir {
		row := sw.ink[y*w : (y+1)*w]
		fr := steps[y*w : (y+1)*w]
		// The margins (x < m, x >= w-m) and the canvas sides take the general step; between them every column has
		// neighbours on both sides and costs its ink.
		lo, hi := min(max(m, 1), w), max(w-max(m, 1), 0)
		if lo > hi {
			lo, hi = w, w
		}
		sw.sweepSides(next, fr, acc, row, lo, hi)
		if lo < hi {
			sweepInterior(next[lo:hi], fr[lo:hi], acc[lo-1:hi+1], row[lo:hi], bend)
		}
		acc, next = next, acc
	}
	return acc
}

// sweepInterior is run's step for columns that have neighbours on both sides and cost their ink: next[i] and
// steps[i] for the column whose price on the previous row is acc[i+1] and whose ink is row[i].
func sweepInterior(next []float64, steps []int8, acc []float64, row []uint8, bend float64) {
	n := len(next)
	ahead, steps, row := acc[2:n+2], steps[:n], row[:n] // ahead[i]: the price up and to the right of column i
	left, here := acc[0], acc[1]
	for i := range next {
		right := ahead[i]
		best, step := here, int8(0)
		if v := left + bend; v < best {
			best, step = v, -1
		}
		if v := right + bend; v < best {
			best, step = v, 1
		}
		next[i] = best + float64(row[i])
		steps[i] = step
		left, here = here, right
	}
}

// sweepSides is run's step into the columns left of lo and from hi on (the margins and the canvas sides) from the
// previous row's path prices acc: the cheapest of the three columns above (left, straight, right, ties kept
// straight, then left) plus the column's price.
func (sw *seamSweep) sweepSides(next []float64, steps []int8, acc []float64, row []uint8, lo, hi int) {
	w, bend := sw.w, sw.bend
	next, steps, acc, row = next[:w], steps[:w], acc[:w], row[:w]
	for x := 0; x < w; x++ {
		if x == lo {
			if x = hi; x >= w {
				break
			}
		}
		best, step := acc[x], int8(0)
		if x > 0 && acc[x-1]+bend < best {
			best, step = acc[x-1]+bend, -1
		}
		if x+1 < w && acc[x+1]+bend < best {
			best, step = acc[x+1]+bend, 1
		}
		next[x], steps[x] = best+sw.cost(row, x), step
	}
}

// seamStack and seamStackW bound the groups whose seam scratch (ink, w×h bytes; sweep rows, 4×w floats) groupSeams
// keeps on its stack: a digit or two of a small canvas.
const (
	seamStack  = 2048
	seamStackW = 64
)

// offSide is the price of a pixel too close to a group's side for a cut: more than any cut through the ink.
const offSide = 1e6

// path traces the cut through column c (relative to the group) at mid-height.
func (s *seams) path(c int) *cutPath {
	p := &cutPath{y0: s.y0, xs: make([]int32, s.h), anchor: s.x0 + c}
	p.xs[s.ymid] = int32(s.x0 + c)
	x := c
	for y := s.ymid - 1; y >= 0; y-- {
		x += int(s.down[(y+1)*s.w+x])
		x = min(max(x, 0), s.w-1)
		p.xs[y] = int32(s.x0 + x)
	}
	x = c
	for y := s.ymid + 1; y < s.h; y++ {
		x += int(s.up[(y-1)*s.w+x])
		x = min(max(x, 0), s.w-1)
		p.xs[y] = int32(s.x0 + x)
	}
	return p
}
