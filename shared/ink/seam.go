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
	s := &seams{x0: g.x0, y0: g.y0, w: w, h: h, ymid: h / 2, cost: make([]float64, w),
		down: make([]int8, w*h), up: make([]int8, w*h)}
	// ink[y*w+x] is 1 on ink; side[x] prices the columns too close to the group's sides (offSide).
	ink := make([]uint8, w*h)
	in := lay.compSet(g.comps)
	for _, r := range lay.l.runs[lay.l.rowStart[g.y0]:lay.l.rowStart[g.y1]] {
		if in(r.comp) {
			row := ink[(int(r.y)-g.y0)*w:]
			for x := int(r.x0) - g.x0; x < int(r.x1)-g.x0; x++ {
				row[x] = 1
			}
		}
	}
	bend := lay.penW / math.Max(1, 0.25*lay.codeH)
	// A cut keeps a sliver's width off the group's sides: running down its outline it would cut nothing off.
	margin := min(int(math.Max(3, 0.05*lay.codeH)), (w-1)/2)
	side := make([]float64, w)
	for x := 0; x < margin; x++ {
		side[x], side[w-1-x] = offSide, offSide
	}
	cost := func(dst []float64, y int) {
		row := ink[y*w : (y+1)*w]
		for x, v := range row {
			if side[x] != 0 {
				dst[x] = side[x]
			} else {
				dst[x] = float64(v)
			}
		}
	}
	// Two sweeps meet at mid-height: from the top row down to ymid and from the bottom row up to it.
	rowCost := make([]float64, w)
	sweep := func(from, to, dir int, steps []int8) []float64 {
		acc := make([]float64, w)
		cost(acc, from)
		next := make([]float64, w)
		for y := from + dir; y != to+dir; y += dir {
			cost(rowCost, y)
			fr := steps[y*w : (y+1)*w]
			for x := 0; x < w; x++ {
				best, step := acc[x], int8(0)
				if x > 0 && acc[x-1]+bend < best {
					best, step = acc[x-1]+bend, -1
				}
				if x+1 < w && acc[x+1]+bend < best {
					best, step = acc[x+1]+bend, 1
				}
				next[x] = best + rowCost[x]
				fr[x] = step
			}
			acc, next = next, acc
		}
		return acc
	}
	var down, up []float64
	if s.ymid == 0 {
		down = make([]float64, w)
		cost(down, 0)
	} else {
		down = sweep(0, s.ymid, 1, s.down)
	}
	if s.ymid == h-1 {
		up = make([]float64, w)
		cost(up, h-1)
	} else {
		up = sweep(h-1, s.ymid, -1, s.up)
	}
	// Both sweeps counted the mid-height row.
	mid := make([]float64, w)
	cost(mid, s.ymid)
	for x := range s.cost {
		s.cost[x] = down[x] + up[x] - mid[x]
	}
	g.seams = s
	return s
}

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
