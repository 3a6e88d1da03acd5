package ink

import (
	"cmp"
	"math"
	"slices"
)

// Slant: strongly slanted writing (a forward slant of 0.8, each digit leaning a good part of its height to the
// right) makes digits wide in canvas columns although they are narrow along their own axis. A slanted 7 then
// looks like two digits, and the detached bar of a 5 or a 7 ends up beyond its digit's columns. The layout
// therefore also measures ink in a deskewed frame, x' = x + slant·(y − yref): merging parts into digits and
// deciding how many digits a group holds look at those widths, while cutting stays on the canvas.

// slantMin and slantMax bound the estimate (rightward slant is positive, as synth's Slant); below slantUse in
// magnitude the writing counts as upright and is measured exactly as before.
const (
	slantMin = -0.6
	slantMax = 1.2
	slantUse = 0.6
	// slantMinWidth: the slant is estimated on ink at least this many ink heights wide.
	slantMinWidth = 2.5
)

// estimateSlant is the writing's slant (columns per row, rightward up) of a code (several digits' worth of
// ink) from its near-vertical strokes: chains
// of thin runs, each overlapping exactly one thin run on the next row, at least a quarter of the ink height
// long. The median slope, weighted by chain length, ignores the odd diagonal (the stem of a 7, the base of a
// 2 are long, but most strokes follow the hand's slant).
func estimateSlant(l *labels, keep []int32, penW, h0 float64) float64 {
	inKeep := make([]bool, len(l.comps))
	x0, x1 := math.MaxInt, math.MinInt
	for _, i := range keep {
		inKeep[i] = true
		x0, x1 = min(x0, l.comps[i].x0), max(x1, l.comps[i].x1)
	}
	if float64(x1-x0) < slantMinWidth*h0 {
		// One or two digits: too few strokes to tell the hand's slant from a digit's diagonal (the slope of a
		// 2 or a 7), and nothing to keep apart.
		return 0
	}
	thin := func(r *run) bool { return inKeep[r.comp] && float64(r.x1-r.x0) <= 2.5*penW }
	n := len(l.runs)
	next := make([]int32, n)
	preds := make([]uint8, n)
	for i := range next {
		next[i] = -1
	}
	for y := 0; y+1 < l.h; y++ {
		a0, a1 := int(l.rowStart[y]), int(l.rowStart[y+1])
		b1 := int(l.rowStart[y+2])
		j := a1
		for i := a0; i < a1; i++ {
			r := &l.runs[i]
			if !thin(r) {
				continue
			}
			// Runs of the next row overlapping r (8-connected), found from the first that may overlap.
			for j < b1 && l.runs[j].x1 < r.x0 {
				j++
			}
			found, cnt := -1, 0
			for k := j; k < b1 && l.runs[k].x0 <= r.x1; k++ {
				found, cnt = k, cnt+1
			}
			if cnt == 1 && thin(&l.runs[found]) {
				next[i] = int32(found)
				preds[found] = min(preds[found]+1, 2)
			}
		}
	}
	type chain struct{ slope, n float64 }
	var cs []chain
	total := 0.0
	for i := range n {
		r := &l.runs[i]
		if !thin(r) || preds[i] == 1 {
			continue // not a chain's start
		}
		x0 := float64(r.x0+r.x1) / 2
		k, rows := i, 0
		for next[k] >= 0 && preds[next[k]] == 1 {
			k = int(next[k])
			rows++
		}
		if float64(rows) < 0.25*h0 {
			continue
		}
		e := &l.runs[k]
		// y grows downwards: a rightward slant moves left going down.
		s := (x0 - float64(e.x0+e.x1)/2) / float64(rows)
		cs = append(cs, chain{s, float64(rows)})
		total += float64(rows)
	}
	if len(cs) == 0 {
		return 0
	}
	slices.SortFunc(cs, func(a, b chain) int { return cmp.Compare(a.slope, b.slope) })
	acc := 0.0
	s := cs[len(cs)-1].slope
	for _, c := range cs {
		acc += c.n
		if acc >= total/2 {
			s = c.slope
			break
		}
	}
	if math.Abs(s) < slantUse {
		return 0
	}
	return min(max(s, slantMin), slantMax)
}

// deskew sets every component's deskewed column range (sx0, sx1) for shear s.
func (l *labels) deskew(s float64) {
	if s == 0 {
		for i := range l.comps {
			c := &l.comps[i]
			c.sx0, c.sx1 = c.x0, c.x1
		}
		return
	}
	for i := range l.comps {
		c := &l.comps[i]
		c.sx0, c.sx1 = math.MaxInt, math.MinInt
	}
	yref := float64(l.h) / 2
	for _, r := range l.runs {
		c := &l.comps[r.comp]
		d := s * (float64(r.y) - yref)
		c.sx0 = min(c.sx0, int(math.Floor(float64(r.x0)+d)))
		c.sx1 = max(c.sx1, int(math.Ceil(float64(r.x1)+d)))
	}
}
