package recognize

import (
	"cmp"
	"math"
	"slices"

	"digitpad/shared/ink"
)

// Stroke candidates. Pixel cuts cannot part digits whose strokes cross or merge (a 9's stem across a 5, a 7's
// stem over an 8), but when the ink arrives as strokes, each stroke belongs to one digit and digits are written
// one after another: a candidate digit is a run of consecutive strokes, rendered on its own. The runs form a
// lattice like the one of cuts (nodes between strokes, a path of runs covering every stroke is a segmentation).
// It is read only when the image reading leaves it a chance, and its best path replaces the image reading only
// when the model reads it clearly more confidently (strokeMargin). A stroke added to an earlier digit (a 1 made
// into a 4 after the whole code) joins it (groupStrokes); a whole digit written out of order (added after the
// rest of the code) takes its place by position when the writing order makes no segmentation (byPosition).

const (
	// MaxStrokeCandidates bounds the candidate digits the stroke lattice adds to one canvas's model call;
	// callers that bound a job's size before classification allow for them. Stroke input with more candidates
	// is read from its pixels only.
	MaxStrokeCandidates = 48
	// maxDigitStrokes bounds the strokes of one candidate digit (a 5-digit validation code's digits have 1-3).
	maxDigitStrokes = 4
	// maxDigitWidth is the widest candidate digit, in code heights (pen paths).
	maxDigitWidth = 1.2
	// lateStrokeSlack is how far, in code heights, a stroke written after a digit to its right may lie outside
	// an earlier digit's pen paths and still join it (an afterthought: a 1 made into a 4, a crossed 7).
	lateStrokeSlack = 0.1
	// minStrokeOverlap is how much of its x-extent (or of the digit's so far, if narrower) each unit after the
	// first of a candidate digit must share with the digit so far: a digit's strokes lie over each other, while a
	// neighbour's stroke only touches its side (a 1 and the bar of the 4 after it read as a 4 at 0.99).
	minStrokeOverlap = 0.25
	// maxNeighbourOverlap bounds how much of the narrower of two neighbouring digits of a path the other's pen
	// paths may cover horizontally (tight writing overlaps a little, a crossing stem more).
	maxNeighbourOverlap = 0.5
	// renderSteps: candidate digits are rendered from their strokes with samples at least 1/renderSteps code
	// heights apart (a quarter of a pixel of the 28×28 frame; pads sample far more densely, and each sample is
	// a capsule to draw).
	renderSteps = 80
	// strokeMargin is how much higher, in log-probability, the stroke lattice's best path must read than the
	// image reading (the sum of its digits' log-confidences) to replace it.
	strokeMargin = 0.1
)

// strokeLattice holds candidate digits made of whole strokes (mask pixels). Its edges join unit boundaries: a
// unit is a stroke with the afterthoughts that joined it (groupStrokes).
type strokeLattice struct {
	lattice
	strokes []ink.Stroke // the mask's strokes that hold points
	units   [][]int      // indexes into strokes; edge e's digit is units[e.from:e.to]
	boxes   []box        // per edge, its pen paths' box
	boxes0  []box        // per stroke, its pen path's box
	codeH   float64
	pen     float64
	w, h    int
	opt     ink.Options
	asked   bool // edges have been queued for reading (readStrokes)
}

// newStrokeLattice builds the stroke lattice of a stroke mask (nil when the mask has no strokes, or when they do
// not make a lattice within the bounds: too many candidates, or a stroke too wide for one digit).
func newStrokeLattice(m *ink.Mask, opt ink.Options) *strokeLattice {
	var strokes []ink.Stroke
	for _, s := range m.Strokes {
		if len(s) > 0 {
			strokes = append(strokes, s)
		}
	}
	if len(strokes) < 2 || len(strokes) > MaxStrokeCandidates {
		return nil
	}
	boxes := make([]box, len(strokes))
	all := emptyBox()
	for i, s := range strokes {
		boxes[i] = strokeBox(s)
		all = all.union(boxes[i])
	}
	codeH := all.y1 - all.y0
	if codeH <= 0 {
		return nil
	}
	units := groupStrokes(boxes, lateStrokeSlack*codeH)
	pen := ink.PenWidth(m.W, m.H)
	sl := &strokeLattice{strokes: strokes, boxes0: boxes, codeH: codeH, pen: pen, w: m.W, h: m.H, opt: opt}
	if !sl.setUnits(units) {
		return nil
	}
	return sl
}

// setUnits builds the lattice's edges over units in the given order; false when they exceed MaxStrokeCandidates.
func (sl *strokeLattice) setUnits(units [][]int) bool {
	sl.units = units
	sl.lattice = lattice{nodes: len(units) + 1}
	sl.boxes = nil
	ub := make([]box, len(units))
	for i, u := range units {
		ub[i] = emptyBox()
		for _, k := range u {
			ub[i] = ub[i].union(sl.boxes0[k])
		}
	}
	for i := range units {
		b, n := ub[i], 0
		for j := i; j < len(units); j++ {
			if j > i && !overlaps(b, ub[j], sl.pen) {
				break
			}
			b = b.union(ub[j])
			if n += len(units[j]); n > maxDigitStrokes || b.x1-b.x0 > maxDigitWidth*sl.codeH {
				break
			}
			if len(sl.edges) == MaxStrokeCandidates {
				return false
			}
			sl.edges = append(sl.edges, latticeEdge{from: i, to: j + 1, digit: edgePending})
			sl.boxes = append(sl.boxes, b)
		}
	}
	sl.pending = len(sl.edges)
	return true
}

// byPosition puts the units in order of their centres left to right (a whole digit written out of order, for
// example one added after the rest of the code, takes its place among its neighbours); false when that changes
// nothing or makes too many candidates. It is only tried when the writing order makes no segmentation: in
// tight writing a digit's later stroke may lie right of its neighbour's first, and only the writing order
// keeps them apart. On validation codes with one whole digit moved to the end (mkevalset -strokes digit, seeds
// 11 and 12) exact codes rose from 94.8/94.9% to 98.4/97.4% (asking 10.8/11.2% to 4.5/6.3%), no code read
// worse and the silent errors stayed the same codes; codes in writing order read as before.
func (sl *strokeLattice) byPosition() bool {
	centre := func(u []int) float64 {
		b := emptyBox()
		for _, k := range u {
			b = b.union(sl.boxes0[k])
		}
		return (b.x0 + b.x1) / 2
	}
	units := slices.Clone(sl.units)
	slices.SortStableFunc(units, func(a, b []int) int { return cmp.Compare(centre(a), centre(b)) })
	if slices.EqualFunc(units, sl.units, func(a, b []int) bool { return &a[0] == &b[0] }) {
		return false
	}
	return sl.setUnits(units)
}

// groupStrokes groups strokes (their pen-path boxes, in time order) into units, in the order of their first
// stroke: a stroke whose centre lies left of the unit before it (the pen went back) joins the earlier unit whose
// extent, widened by slack, holds its centre (the nearest by centre), else it starts a unit of its own. A whole
// digit written late has its centre between its neighbours' and joins none: the lattice's paths then run out of
// order and are refused (orderedPath), and readStrokes tries the units by position (byPosition).
func groupStrokes(boxes []box, slack float64) [][]int {
	var units [][]int
	var ext []box
	for k, b := range boxes {
		cx := (b.x0 + b.x1) / 2
		join := -1
		if n := len(units); n > 0 && cx < ext[n-1].x0-slack {
			best := math.Inf(1)
			for u := range n - 1 {
				e := ext[u]
				if d := math.Abs(cx - (e.x0+e.x1)/2); cx >= e.x0-slack && cx <= e.x1+slack && d < best {
					join, best = u, d
				}
			}
		}
		if join < 0 {
			units = append(units, []int{k})
			ext = append(ext, b)
			continue
		}
		units[join] = append(units[join], k)
		ext[join] = ext[join].union(b)
	}
	return units
}

// overlaps reports whether a unit's pen paths (box u) share at least minStrokeOverlap of the narrower x-extent
// with a digit's so far (box d), both widened by the pen.
func overlaps(d, u box, pen float64) bool {
	lo, hi := max(d.x0, u.x0)-pen/2, min(d.x1, u.x1)+pen/2
	return hi-lo >= minStrokeOverlap*(min(d.x1-d.x0, u.x1-u.x0)+pen)
}

// box is a pen-path bounding box.
type box struct{ x0, y0, x1, y1 float64 }

func emptyBox() box { return box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)} }

func (a box) union(b box) box {
	return box{min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1)}
}

func strokeBox(s ink.Stroke) box {
	x0, y0, x1, y1 := ink.StrokeBounds(s)
	return box{x0, y0, x1, y1}
}

// wantDigits is the digit count the stroke lattice must match: the format's, else the image reading's.
func (j *Job) wantDigits(img []int) int {
	if j.format != nil && j.format.digits > 0 {
		return j.format.digits
	}
	return len(img)
}

// codeScore is the sum of the log-confidences of digits (indexes into Job.digits).
func (j *Job) codeScore(ids []int) float64 {
	s := 0.0
	for _, k := range ids {
		s += math.Log(max(float64(slices.Max(j.probs[k*10:(k+1)*10])), 1e-12))
	}
	return s
}

// readStrokes queues the stroke lattice's edges for the next model call when the image reading leaves the
// lattice a chance (a path scores at most 0, so an image reading above −strokeMargin always stands), and
// reports whether it did. It acts once, after the image candidates are read.
func (j *Job) readStrokes() bool {
	sl := j.strokes
	if sl == nil || sl.asked {
		return false
	}
	sl.asked = true
	img := j.choose()
	zero := func(*latticeEdge) float64 { return 0 }
	if j.codeScore(img) >= -strokeMargin || sl.orderedPath(j.wantDigits(img), zero) == nil &&
		(!sl.byPosition() || sl.orderedPath(j.wantDigits(img), zero) == nil) {
		sl.pending = 0
		return false
	}
	thinned := make([]ink.Stroke, len(sl.strokes))
	for k, st := range sl.strokes {
		thinned[k] = thin(st, sl.codeH/renderSteps)
	}
	var ks []int
	var paths []ink.Stroke
	for ei := range sl.edges {
		e := &sl.edges[ei]
		ks = ks[:0]
		for _, u := range sl.units[e.from:e.to] {
			ks = append(ks, u...)
		}
		slices.Sort(ks) // time order
		paths = paths[:0]
		for _, k := range ks {
			paths = append(paths, thinned[k])
		}
		d := ink.StrokesDigit(paths, sl.codeH, sl.pen, sl.w, sl.h, sl.opt)
		e.box = d.Box
		e.digit = len(j.digits)
		j.digits = append(j.digits, d)
	}
	sl.pending = 0
	return true
}

// strokeChoice is the stroke lattice's best path when it was read and reads clearly more confidently than the
// image reading img (see strokeMargin); img otherwise.
func (j *Job) strokeChoice(img []int) []int {
	sl := j.strokes
	if sl == nil || !sl.asked || len(sl.edges) == 0 || sl.edges[0].digit < 0 {
		return img
	}
	p := sl.orderedPath(j.wantDigits(img), j.edgeScore)
	if p == nil {
		return img
	}
	for i, ei := range p {
		p[i] = sl.edges[ei].digit
	}
	if j.codeScore(p) > j.codeScore(img)+strokeMargin {
		return p
	}
	return img
}

// orderedPath is the path of exactly n edges from the first node to the last maximising the sum of val whose
// digits run left to right: each one's centre right of the one before, the two overlapping by at most
// maxNeighbourOverlap of the narrower (digits are written one after another; strokes out of order make paths
// that are not). It returns edge indexes, nil when there is none. It is lattice.path on the graph whose nodes
// are the edges (plus a start and an end) and whose arcs join the edges that may follow each other.
func (sl *strokeLattice) orderedPath(n int, val func(*latticeEdge) float64) []int {
	ne := len(sl.edges)
	g := lattice{nodes: ne + 2}
	for e, ed := range sl.edges {
		if ed.from == 0 {
			g.edges = append(g.edges, latticeEdge{from: 0, to: e + 1, digit: e})
		}
		for f := e + 1; f < ne; f++ {
			if sl.edges[f].from == ed.to && sl.inOrder(e, f) {
				g.edges = append(g.edges, latticeEdge{from: e + 1, to: f + 1, digit: f})
			}
		}
		if ed.to == sl.nodes-1 {
			g.edges = append(g.edges, latticeEdge{from: e + 1, to: ne + 1, digit: -1})
		}
	}
	p := g.path(n+1, func(a *latticeEdge) (float64, bool) {
		if a.digit < 0 {
			return 0, true
		}
		return val(&sl.edges[a.digit]), true
	})
	if p == nil {
		return nil
	}
	for i := range n {
		p[i] = g.edges[p[i]].digit
	}
	return p[:n]
}

// inOrder reports whether edge e's digit may follow edge f's in a code (see orderedPath).
func (sl *strokeLattice) inOrder(f, e int) bool {
	a, b := sl.boxes[f], sl.boxes[e]
	if (b.x0+b.x1)/2 <= (a.x0+a.x1)/2 {
		return false
	}
	over := min(a.x1, b.x1) - max(a.x0, b.x0) + sl.pen
	return over <= maxNeighbourOverlap*(min(a.x1-a.x0, b.x1-b.x0)+sl.pen)
}

// thin drops the samples of a stroke closer than step to the last one kept; the first and last stay.
func thin(s ink.Stroke, step float64) ink.Stroke {
	if len(s) <= 2 {
		return s
	}
	out := ink.Stroke{s[0]}
	for _, p := range s[1 : len(s)-1] {
		q := out[len(out)-1]
		if math.Hypot(p.X-q.X, p.Y-q.Y) >= step {
			out = append(out, p)
		}
	}
	return append(out, s[len(s)-1])
}
