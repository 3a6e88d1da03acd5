package ink

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"slices"
)

// widthWeight prices a piece whose width is off the typical digit width by that width as much as cutting
// through widthWeight strokes.
const widthWeight = 8

// maxComponents bounds the pairwise merge step on pathological input (sand-like noise); the largest
// components are kept.
const maxComponents = 2000

// group is a set of components believed to form one or more digits; k is how many digits it is cut into.
type group struct {
	comps          []int32
	x0, y0, x1, y1 int
	sx0, sx1       int // column range in the deskewed frame (slant.go)
	mass           float64
	k              int
	seams          *seams          // traced on first use; reset when comps change
	cuts           map[int][]piece // cut's result per digit count, kept likewise
	proj           []int           // ink pixels per column (projection), kept likewise
	heights        map[int][]int   // the ink height of each piece of cut's result per digit count, kept likewise
}

func (g *group) w() int { return g.x1 - g.x0 }
func (g *group) h() int { return g.y1 - g.y0 }

// sw is the group's width in the deskewed frame.
func (g *group) sw() int { return g.sx1 - g.sx0 }

// join adds b's components and extent to g.
func (g *group) join(b *group) {
	g.comps = append(slices.Clone(g.comps), b.comps...)
	slices.Sort(g.comps)
	g.x0, g.y0, g.x1, g.y1 = min(g.x0, b.x0), min(g.y0, b.y0), max(g.x1, b.x1), max(g.y1, b.y1)
	g.sx0, g.sx1 = min(g.sx0, b.sx0), max(g.sx1, b.sx1)
	g.mass += b.mass
	g.seams, g.cuts, g.proj, g.heights = nil, nil, nil, nil
}

// piece is one digit to be: the pixels of comps with xlo <= x < xhi, and right of left and left of right
// where a cut follows the strokes.
type piece struct {
	comps       []int32
	xlo, xhi    int
	left, right *cutPath // nil: a vertical cut at xlo or xhi
}

// leftCut is the column of the cut on the piece's left (where a bent cut crosses mid-height).
func (p *piece) leftCut() int {
	if p.left != nil {
		return p.left.anchor
	}
	return p.xlo
}

// bounds is the piece's column range [lo, hi) on row y.
func (p *piece) bounds(y int) (lo, hi int) {
	lo, hi = p.xlo, p.xhi
	if p.left != nil {
		lo = p.left.at(y)
	}
	if p.right != nil {
		hi = max(lo, p.right.at(y))
	}
	return lo, hi
}

// layout is the segmentation plan for one mask.
type layout struct {
	l      *labels
	groups []group
	codeH  float64   // typical digit height in canvas pixels
	typW   float64   // typical single-digit width
	slant  float64   // the writing's shear (estimateSlant); widths in the deskewed frame use it
	penW   float64   // typical stroke thickness in canvas pixels
	crop   []float32 // normalise's scratch buffer
}

func segment(m *Mask, opt Options, maxCands int) ([][]Digit, error) {
	cs, err := candidates(m, opt, maxCands)
	if err != nil {
		return nil, err
	}
	out := make([][]Digit, len(cs.Boxes))
	for c, boxes := range cs.Boxes {
		out[c] = make([]Digit, len(boxes))
		for i := range boxes {
			out[c][i] = cs.Digit(c, i)
		}
	}
	return out, nil
}

// Candidates are candidate segmentations of a mask (SegmentCandidates) whose digits are normalised on demand:
// the boxes are known at once, and a reader that needs only some of the digits pays only for those.
type Candidates struct {
	// Boxes[c][i] is the ink box (mask pixels) of digit i of candidate c, the best guess first.
	Boxes  [][]image.Rectangle
	m      *Mask
	lay    *layout
	opt    Options
	pieces [][]piece
	// shared holds the pieces that several candidates hold, each normalised on its first use (nil until then).
	shared map[pieceKey]*Digit
}

// Digit normalises digit i of candidate c. Candidates share pieces: a piece that several candidates hold is
// normalised once (a piece of one candidate only is normalised on each call: readers ask for it once, and keeping
// a 28×28 copy of every digit cost a one-digit answer an allocation). Not safe for concurrent use.
func (cs *Candidates) Digit(c, i int) Digit {
	p := cs.pieces[c][i]
	key := p.key()
	d, shared := cs.shared[key]
	if d != nil {
		return *d
	}
	nd := cs.lay.normalise(cs.m, p, cs.Boxes[c][i], cs.opt)
	if shared {
		d = new(Digit)
		*d = nd
		cs.shared[key] = d
	}
	return nd
}

// CutStrokes is how many strokes the planned segmentation's cut goes through (column ink over pen width, see
// cutCrossings) when it cuts all the ink, one piece, into two digits; NaN for any other plan. Two touching digits
// meet at a point, so a cut between them crosses about one stroke or less; a cut through one wide digit (a 0,
// an 8, a 7 with a long bar) crosses two. The recogniser weighs the whole against the halves by it.
func (cs *Candidates) CutStrokes() float64 {
	lay := cs.lay
	if len(lay.groups) != 1 || lay.groups[0].k != 2 {
		return math.NaN()
	}
	return lay.cutCrossings(&lay.groups[0], 2)
}

// SegmentCandidateBoxes is SegmentCandidates with the normalisation left to Candidates.Digit.
func SegmentCandidateBoxes(m *Mask, opt Options, maxCands int) (*Candidates, error) {
	if maxCands < 1 {
		return nil, fmt.Errorf("ink: maxCands %d: %w", maxCands, ErrBadInput)
	}
	return candidates(m, opt, maxCands)
}

func candidates(m *Mask, opt Options, maxCands int) (*Candidates, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	lay, err := plan(m, opt)
	if err != nil {
		return nil, err
	}
	return lay.candidates(m, opt, maxCands)
}

func (lay *layout) candidates(m *Mask, opt Options, maxCands int) (*Candidates, error) {
	alts := lay.alternatives(opt, maxCands)
	cs := &Candidates{m: m, lay: lay, opt: opt}
	for _, pieces := range alts {
		var boxes []image.Rectangle
		var kept []piece
		for _, p := range pieces {
			box, ok := lay.pieceBox(m, p)
			if !ok {
				continue // a cut may leave an empty sliver
			}
			boxes = append(boxes, box)
			kept = append(kept, p)
		}
		if len(boxes) > 0 {
			cs.Boxes = append(cs.Boxes, boxes)
			cs.pieces = append(cs.pieces, kept)
		}
	}
	if len(cs.Boxes) == 0 {
		return nil, ErrNoInk
	}
	if len(cs.pieces) > 1 {
		seen := make(map[pieceKey]bool)
		for _, ps := range cs.pieces {
			for _, p := range ps {
				k := p.key()
				if seen[k] {
					if cs.shared == nil {
						cs.shared = make(map[pieceKey]*Digit)
					}
					cs.shared[k] = nil
				}
				seen[k] = true
			}
		}
	}
	return cs, nil
}

type pieceKey struct {
	first, n int32
	xlo, xhi int
	la, ra   int // anchors of the cut paths, -1 for vertical cuts
}

func (p piece) key() pieceKey {
	k := pieceKey{first: p.comps[0], n: int32(len(p.comps)), xlo: p.xlo, xhi: p.xhi, la: -1, ra: -1}
	if p.left != nil {
		k.la = p.left.anchor
	}
	if p.right != nil {
		k.ra = p.right.anchor
	}
	return k
}

// plan labels the mask, merges components into groups and decides how many digits each group holds.
func plan(m *Mask, opt Options) (*layout, error) {
	return planLabels(m, label(m), opt)
}

// planLabels is plan with the mask's labelling given. The labelling is shared, not changed (deskew sets the
// same columns for the same ink).
func planLabels(m *Mask, l *labels, opt Options) (*layout, error) {
	// Single pixels and pairs are scanner dust or JPEG ringing, never part of a digit worth keeping.
	keep := make([]int32, 0, len(l.comps))
	for i, c := range l.comps {
		if c.area > 2 {
			keep = append(keep, int32(i))
		}
	}
	if len(keep) == 0 {
		return nil, ErrNoInk
	}
	if len(keep) > maxComponents {
		slices.SortFunc(keep, func(a, b int32) int { return l.comps[b].area - l.comps[a].area })
		keep = keep[:maxComponents]
	}
	h0 := inkHeight(l, keep)
	lay := &layout{l: l, penW: penWidth(l, keep)}
	lay.slant = estimateSlant(l, keep, lay.penW, h0)
	l.deskew(lay.slant)
	lay.groups = mergeComponents(l, keep, h0)

	// The code height: the median height of the taller groups, so broken fragments do not shrink it.
	maxH := 0
	for _, g := range lay.groups {
		maxH = max(maxH, g.h())
	}
	var hs []int
	for _, g := range lay.groups {
		if float64(g.h()) >= 0.4*float64(maxH) {
			hs = append(hs, g.h())
		}
	}
	slices.Sort(hs)
	lay.codeH = float64(hs[len(hs)/2])

	// Specks, taps, dashes and underlines are not digits: small relative to the code, or flat and short, or
	// tiny on the canvas whatever the code.
	minExtent := max(6, 0.03*float64(min(m.W, m.H)))
	kept := lay.groups[:0]
	var dashes []group
	for _, g := range lay.groups {
		gw, gh := float64(g.w()), float64(g.h())
		switch {
		case max(gw, gh) < minExtent:
		case max(gw, gh) < 0.25*lay.codeH:
		case gh < 0.3*lay.codeH && gw < 0.6*lay.codeH:
			dashes = append(dashes, g)
		default:
			kept = append(kept, g)
		}
	}
	lay.groups = kept
	lay.attachBars(dashes)
	if len(lay.groups) == 0 {
		return nil, ErrNoInk
	}
	slices.SortFunc(lay.groups, func(a, b group) int { return cmp.Compare(a.x0+a.x1, b.x0+b.x1) })
	if opt.ExpectDigits <= 0 && len(lay.groups) > 1 && lay.squareInk() {
		lay.joinAll()
	}
	lay.decideCounts(opt.ExpectDigits)
	return lay, nil
}

// squareInk reports whether ink in several groups, without a known digit count, looks like one digit broken
// into pieces: its box is no wider than squareAspect times its height (two separate digits side by side are
// that narrow only when one is a 1) and no group is as narrow as a 1. MNIST digits drawn as canvases broke into
// "67" or "21" otherwise (a 5 with a detached bar, a 9 with a broken loop). One connected group is left to
// the count rules: two touching digits are as square as one wide digit.
func (lay *layout) squareInk() bool {
	x0, y0, x1, y1 := lay.groups[0].x0, lay.groups[0].y0, lay.groups[0].x1, lay.groups[0].y1
	for _, g := range lay.groups[1:] {
		x0, y0, x1, y1 = min(x0, g.x0), min(y0, g.y0), max(x1, g.x1), max(y1, g.y1)
	}
	h := float64(y1 - y0)
	if float64(x1-x0) > squareAspect*h {
		return false
	}
	for _, g := range lay.groups {
		if float64(g.w()) < narrowPiece*h {
			return false
		}
	}
	return true
}

// squareAspect and narrowPiece are squareInk's bounds (width over the ink's height).
const (
	squareAspect = 1.1
	narrowPiece  = 0.3
)

// joinAll makes all groups one.
func (lay *layout) joinAll() {
	if len(lay.groups) < 2 {
		return
	}
	a := lay.groups[0]
	for i := range lay.groups[1:] {
		a.join(&lay.groups[1+i])
	}
	lay.groups = []group{a}
}

// attachBars joins a short flat stroke to the digit it tops: the bar of a 5 written apart and off to the side
// (a dash at the top of a digit, a little beside it) is part of that digit, not a mark to drop. The bar goes to
// the nearest digit whose top it reaches within a quarter of the code height, preferring digits it fits beside
// (together no wider than a wide digit): a 7 whose hairline join faded leaves its bar above the stem and nearer
// to the previous digit, and a 7 touching its right neighbour is one group too wide with the bar. Dropped, the
// bar leaves a stem that reads as a confident "1".
func (lay *layout) attachBars(dashes []group) {
	H := lay.codeH
	for _, d := range dashes {
		cy := float64(d.y0+d.y1) / 2
		best, bestGap := -1, math.Inf(1)
		wide, wideGap := -1, math.Inf(1)
		for i := range lay.groups {
			g := &lay.groups[i]
			if float64(d.y1) < float64(g.y0)-0.25*H || cy > float64(g.y0)+0.35*float64(g.h()) {
				continue
			}
			gap := float64(max(0, max(d.sx0-g.sx1, g.sx0-d.sx1)))
			if gap > 0.25*H {
				continue
			}
			if float64(max(g.sx1, d.sx1)-min(g.sx0, d.sx0)) > 1.2*H {
				if gap < wideGap {
					wide, wideGap = i, gap
				}
				continue // too wide together: not this digit's bar
			}
			if gap < bestGap {
				best, bestGap = i, gap
			}
		}
		if best < 0 {
			best = wide // dropped, a 7's bar leaves a stem that reads as a confident "1"
		}
		if best >= 0 {
			lay.groups[best].join(&d)
		}
	}
}

// inkHeight is the vertical extent holding the middle 96% of the ink mass: a first guess of the digit
// height that a stray mark far above or below the line does not inflate.
func inkHeight(l *labels, keep []int32) float64 {
	inKeep := make([]bool, len(l.comps))
	for _, i := range keep {
		inKeep[i] = true
	}
	rows := make([]float64, l.h)
	total := 0.0
	for _, r := range l.runs {
		if inKeep[r.comp] {
			n := float64(r.x1 - r.x0)
			rows[r.y] += n
			total += n
		}
	}
	lo, hi, acc := 0, l.h-1, 0.0
	for y, v := range rows {
		acc += v
		if acc >= 0.02*total {
			lo = y
			break
		}
	}
	acc = 0
	for y := l.h - 1; y >= 0; y-- {
		acc += rows[y]
		if acc >= 0.02*total {
			hi = y
			break
		}
	}
	return math.Max(1, float64(hi-lo+1))
}

// penWidth estimates stroke thickness as the median length of vertical ink runs: columns crossing a stroke
// see about one pen width of ink (more on near-horizontal strokes, hence the median).
func penWidth(l *labels, keep []int32) float64 {
	// Vertical run lengths from the horizontal runs: count, per column, consecutive rows with ink. Using the
	// horizontal runs' lengths instead is the same statistic rotated; near-vertical strokes dominate digits,
	// so horizontal runs measure the pen well. The median comes from a count of each length (sorting the
	// lengths gives the same one), on the stack unless some run is very long.
	inKeep := make(map[int32]bool, len(keep))
	for _, i := range keep {
		inKeep[i] = true
	}
	var counts [256]int32
	n := 0
	for _, r := range l.runs {
		if !inKeep[r.comp] {
			continue
		}
		if r.x1-r.x0 >= int32(len(counts)) {
			return penWidthSorted(l, inKeep)
		}
		counts[r.x1-r.x0]++
		n++
	}
	if n == 0 {
		return 1
	}
	acc := 0
	for length, c := range counts {
		if acc += int(c); acc > n/2 {
			return math.Max(1, float64(length))
		}
	}
	return 1 // not reached: the counts add up to n
}

// penWidthSorted is penWidth's median by sorting, for runs too long to count.
func penWidthSorted(l *labels, inKeep map[int32]bool) float64 {
	var ls []int
	for _, r := range l.runs {
		if inKeep[r.comp] {
			ls = append(ls, int(r.x1-r.x0))
		}
	}
	slices.Sort(ls)
	return math.Max(1, float64(ls[len(ls)/2]))
}

// mergeComponents joins components that belong to one digit: parts stacked in the same columns (the detached
// bar of a 5, the bar of a two-stroke 7) and small fragments close to other ink (dots of a dotted line).
func mergeComponents(l *labels, keep []int32, h0 float64) []group {
	idx := slices.Clone(keep)
	slices.SortFunc(idx, func(a, b int32) int { return l.comps[a].sx0 - l.comps[b].sx0 })
	parent := make([]int, len(idx))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	reach := int(math.Ceil(0.5 * h0))
	for i := range idx {
		a := &l.comps[idx[i]]
		for j := i + 1; j < len(idx); j++ {
			b := &l.comps[idx[j]]
			if b.sx0 > a.sx1+reach {
				break
			}
			if sameDigit(a, b, h0) {
				if ra, rb := find(i), find(j); ra != rb {
					parent[max(ra, rb)] = min(ra, rb)
				}
			}
		}
	}
	byRoot := map[int]int{}
	var gs []group
	for i, ci := range idx {
		r := find(i)
		gi, ok := byRoot[r]
		if !ok {
			gi = len(gs)
			byRoot[r] = gi
			c := l.comps[ci]
			gs = append(gs, group{x0: c.x0, y0: c.y0, x1: c.x1, y1: c.y1, sx0: c.sx0, sx1: c.sx1, k: 1})
		}
		g := &gs[gi]
		c := &l.comps[ci]
		g.comps = append(g.comps, ci)
		g.x0, g.y0 = min(g.x0, c.x0), min(g.y0, c.y0)
		g.x1, g.y1 = max(g.x1, c.x1), max(g.y1, c.y1)
		g.sx0, g.sx1 = min(g.sx0, c.sx0), max(g.sx1, c.sx1)
		g.mass += c.mass
	}
	for i := range gs {
		slices.Sort(gs[i].comps)
	}
	return gs
}

// sameDigit decides whether components a and b are parts of one digit, by their boxes in the deskewed frame.
func sameDigit(a, b *comp, h0 float64) bool {
	aw, ah, bw, bh := float64(a.sx1-a.sx0), float64(a.h()), float64(b.sx1-b.sx0), float64(b.h())
	ov := float64(min(a.sx1, b.sx1) - max(a.sx0, b.sx0))
	vgap := float64(max(a.y0, b.y0) - min(a.y1, b.y1))
	unionW := float64(max(a.sx1, b.sx1) - min(a.sx0, b.sx0))
	unionH := float64(max(a.y1, b.y1) - min(a.y0, b.y0))
	minW := math.Min(aw, bw)
	if ov >= 0.5*minW && vgap <= 0.5*h0 && unionW <= 1.2*h0 && unionH <= 1.3*h0 {
		// One of them is a part (bar, hook): stacked parts form one digit. Two full-height strokes are one
		// digit only if they share most columns around the same centre, else they are slanted neighbours.
		if math.Min(ah, bh) <= 0.6*h0 {
			return true
		}
		acx, bcx := float64(a.sx0+a.sx1)/2, float64(b.sx0+b.sx1)/2
		if ov >= 0.8*minW && math.Abs(acx-bcx) <= 0.25*math.Max(aw, bw) {
			return true
		}
	}
	small := math.Max(aw, ah) < 0.3*h0 || math.Max(bw, bh) < 0.3*h0
	if small {
		gap := math.Max(0, math.Max(-ov, vgap))
		return gap <= 0.12*h0 && unionW <= 1.0*h0
	}
	return false
}

// decideCounts sets each group's digit count k: wide groups hold touching digits; a known code length
// overrides the guesses by splitting the widest pieces or joining the narrowest neighbours.
func (lay *layout) decideCounts(expect int) {
	H := lay.codeH
	// Clean single digits tell the typical width: on the canvas (for cutting) and in the deskewed frame (for
	// deciding how many digits a group holds: a slanted digit is wide on the canvas only).
	var ws, sws []float64
	for _, g := range lay.groups {
		w, sw := float64(g.w()), float64(g.sw())
		if float64(g.h()) >= 0.6*H && sw >= 0.3*H && sw <= 0.95*H {
			ws, sws = append(ws, w), append(sws, sw)
		}
	}
	typSW := 0.6 * H
	lay.typW = 0.6 * H
	if len(ws) > 0 {
		slices.Sort(ws)
		slices.Sort(sws)
		lay.typW, typSW = ws[len(ws)/2], sws[len(sws)/2]
	}
	if expect > 0 && len(ws) < 2 {
		// Few clean single digits to learn from (a crammed code): with a known length, the code's width
		// tells the pitch.
		sum := 0
		for _, g := range lay.groups {
			sum += g.w()
		}
		lay.typW = float64(sum) / float64(expect)
		sum = 0
		for _, g := range lay.groups {
			sum += g.sw()
		}
		typSW = float64(sum) / float64(expect)
	}
	typW := math.Max(lay.typW, 0.3*H)
	typSW = math.Max(typSW, 0.3*H)
	wide, tallRatio := math.Max(0.9*H, 1.5*typSW), 0.0
	if len(ws) == 0 && expect <= 0 {
		// No clean single digit tells the pitch and no format the count: a lone wide group may be one wide
		// digit (MNIST has digits wider than tall) as well as touching ones. Touching digits stand about
		// equally tall; a cut through one wide digit mostly leaves a shorter piece. (Wider groups are split
		// here and judged whole again by the recogniser, see alternatives.)
		tallRatio = 0.8
	}
	total := 0
	for i := range lay.groups {
		g := &lay.groups[i]
		w := float64(g.sw())
		g.k = 1
		if w > wide {
			// Wide: touching digits, or one wide digit. Very wide groups are split anyway; moderately wide
			// ones only when the cuts cross little ink (touching digits meet at a point, a wide 8 or 0 is
			// crossed by two or more strokes everywhere) and leave every piece tall like a digit (a cut
			// through the bar of a 7 or the base of a 2 leaves a flat piece).
			k := max(2, min(8, int(math.Round(w/typSW))))
			if w > 1.5*H || lay.cutCrossings(g, k) <= 2.4 && lay.piecesTall(g, k, 0.5*H, tallRatio) {
				g.k = k
			}
		}
		total += g.k
	}
	if expect <= 0 {
		return
	}
	for total > expect {
		// Undo the split that leaves pieces closest to the typical width, then join the narrowest adjacent
		// pair that still looks like one digit.
		best, bestDev := -1, math.Inf(1)
		for i := range lay.groups {
			g := &lay.groups[i]
			if g.k > 1 {
				if dev := math.Abs(float64(g.w())/float64(g.k-1) - typW); dev < bestDev {
					best, bestDev = i, dev
				}
			}
		}
		if best >= 0 {
			lay.groups[best].k--
			total--
			continue
		}
		pair, pairW := -1, math.Inf(1)
		for i := 0; i+1 < len(lay.groups); i++ {
			a, b := &lay.groups[i], &lay.groups[i+1]
			uw := float64(max(a.x1, b.x1) - min(a.x0, b.x0))
			if uw < pairW {
				pair, pairW = i, uw
			}
		}
		if pair < 0 || pairW > 1.0*H {
			return
		}
		a, b := lay.groups[pair], lay.groups[pair+1]
		a.join(&b)
		lay.groups[pair] = a
		lay.groups = slices.Delete(lay.groups, pair+1, pair+2)
		total--
	}
	for total < expect {
		// Cut one more digit out of the group whose pieces then come closest to the typical digit width;
		// pieces thinner than a twentieth of the code height are not digits.
		best, bestDev := -1, math.Inf(1)
		for i := range lay.groups {
			g := &lay.groups[i]
			pw := float64(g.w()) / float64(g.k+1)
			if pw < math.Max(3, 0.05*H) {
				continue
			}
			if dev := math.Abs(pw - typW); dev < bestDev {
				best, bestDev = i, dev
			}
		}
		if best < 0 {
			return
		}
		lay.groups[best].k++
		total++
	}
}

// pieces cuts every group into its k digits.
func (lay *layout) pieces() []piece {
	var out []piece
	for i := range lay.groups {
		out = append(out, lay.cut(&lay.groups[i], lay.groups[i].k)...)
	}
	return out
}

// cut splits g into k pieces. Cuts go through columns with little ink (touching digits meet where the
// ink is thin) and make pieces of plausible width: near the typical digit width, or narrow when the piece
// holds a tall upright stroke (a 1). A dynamic programme over the projection's local minima finds the best
// set of cuts. A cut crossing clearly less ink along the gap between strokes than straight down follows the
// strokes (groupSeams) and is named by the column it crosses at mid-height.
func (lay *layout) cut(g *group, k int) []piece {
	if k <= 1 {
		return []piece{{comps: g.comps, xlo: g.x0, xhi: g.x1}}
	}
	// The plan, its alternatives and the lattice ask for the same cuts again and again (the cut depends on
	// the group and the layout's typical width, fixed once counts are decided): it is worked out once.
	if ps, ok := g.cuts[k]; ok {
		return ps
	}
	ps := lay.cutOnce(g, k)
	if g.cuts == nil {
		g.cuts = map[int][]piece{}
	}
	g.cuts[k] = ps
	return ps
}

func (lay *layout) cutOnce(g *group, k int) []piece {
	proj := lay.projection(g)
	sm := lay.groupSeams(g)
	w := len(proj)
	H := lay.codeH
	minPiece := int(math.Max(3, 0.05*H))
	pieceCost := lay.pieceCoster(proj)

	// The ink a cut at column c crosses: straight down, or along the strokes when that pays (straightSlack).
	ink := make([]float64, w)
	for c := range ink {
		ink[c] = math.Min(float64(proj[c]), sm.cost[c]+straightSlack*lay.penW)
	}
	// Candidate cut columns: local minima of the cut cost, away from the ends.
	var pos []int
	pos = append(pos, 0)
	for c := minPiece; c <= w-minPiece && c < w; c++ {
		l, r := ink[max(c-1, 0)], ink[min(c+1, w-1)]
		if ink[c] <= l && ink[c] <= r {
			pos = append(pos, c)
		}
	}
	if len(pos)-1 < k-1 {
		// Too few minima (a very narrow group): fall back to every column.
		pos = pos[:1]
		for c := 1; c < w; c++ {
			pos = append(pos, c)
		}
	}
	pos = append(thinCutColumns(pos, ink, w), w)

	// A cut costs the number of strokes it crosses: the ink on its path over the pen width.
	valley := func(c int) float64 { return ink[c] / lay.penW }

	n := len(pos)
	inf := math.Inf(1)
	// cost[j][i]: best cost of cutting columns [0, pos[i]) into j pieces, the last ending at pos[i] (rows of one
	// allocation each).
	costs, froms := make([]float64, (k+1)*n), make([]int, (k+1)*n)
	cost := make([][]float64, k+1)
	from := make([][]int, k+1)
	for j := range cost {
		cost[j], from[j] = costs[j*n:(j+1)*n:(j+1)*n], froms[j*n:(j+1)*n:(j+1)*n]
	}
	for i := range costs {
		costs[i] = inf
	}
	cost[0][0] = 0
	for j := 1; j <= k; j++ {
		for i := 1; i < n; i++ {
			if j == k && i != n-1 {
				continue
			}
			if j < k && i == n-1 {
				continue
			}
			for p := 0; p < i; p++ {
				if math.IsInf(cost[j-1][p], 1) {
					continue
				}
				c := cost[j-1][p] + pieceCost(pos[p], pos[i])
				if i != n-1 {
					c += valley(pos[i])
				}
				if c < cost[j][i] {
					cost[j][i], from[j][i] = c, p
				}
			}
		}
	}
	if math.IsInf(cost[k][n-1], 1) {
		return []piece{{comps: g.comps, xlo: g.x0, xhi: g.x1}}
	}
	cuts := make([]int, k+1)
	cuts[k] = w
	for j, i := k, n-1; j > 0; j-- {
		i = from[j][i]
		cuts[j-1] = pos[i]
	}
	paths := make([]*cutPath, k+1)
	for j := 1; j < k; j++ {
		if c := cuts[j]; ink[c] < float64(proj[c]) {
			paths[j] = sm.path(c)
		}
	}
	out := make([]piece, 0, k)
	for j := 0; j < k; j++ {
		p := piece{comps: g.comps, xlo: g.x0 + cuts[j], xhi: g.x0 + cuts[j+1], left: paths[j], right: paths[j+1]}
		if p.left != nil {
			p.xlo = int(slices.Min(p.left.xs))
		}
		if p.right != nil {
			p.xhi = int(slices.Max(p.right.xs))
		}
		out = append(out, p)
	}
	return out
}

// maxCutColumns bounds the candidate cut columns of one group. The search for the best cuts looks at every pair of
// them, so flat or wide ink (a line across a 4096-pixel canvas, where every column is a minimum) cost seconds; real
// groups have far fewer (at most 169 in 2,000 validation codes).
const maxCutColumns = 192

// thinCutColumns returns pos (candidate cut columns, ascending, the first being 0) as it is when it holds at most
// maxCutColumns interior columns; otherwise it keeps, in each of maxCutColumns equal stretches of the group's w
// columns, the candidate whose cut crosses the least ink (the leftmost on ties).
func thinCutColumns(pos []int, ink []float64, w int) []int {
	if len(pos)-1 <= maxCutColumns {
		return pos
	}
	out := pos[:1]
	last := -1
	for _, c := range pos[1:] {
		b := c * maxCutColumns / (w + 1)
		switch {
		case b != last:
			out = append(out, c)
			last = b
		case ink[c] < ink[out[len(out)-1]]:
			out[len(out)-1] = c
		}
	}
	return out
}

// straightSlack: a cut goes straight down unless following the strokes crosses at least this many pen widths
// less ink (a bent cut's box reaches past its column, so it must pay for itself).
const straightSlack = 0.25

// pieceCoster prices a piece spanning columns [a, b) of a group with column ink proj: its width off the typical
// digit width, free for a narrow piece that holds one tall upright stroke (a 1), impossible below a sliver.
func (lay *layout) pieceCoster(proj []int) func(a, b int) float64 {
	H := lay.codeH
	typW := math.Max(lay.typW, 0.3*H)
	minPiece := int(math.Max(3, 0.05*H))
	oneLike := lay.oneLiker(proj)
	return func(a, b int) float64 {
		pw := b - a
		if pw < minPiece {
			return math.Inf(1)
		}
		if oneLike(a, b) {
			return 0
		}
		d := (float64(pw) - typW) / typW
		return widthWeight * d * d
	}
}

// oneLiker reports whether a piece spanning columns [a, b) of a group with column ink proj may be a 1. A narrow
// piece is plausible only as a 1: one tall upright stroke holding most of the piece's ink (the side of a 0 or 6
// sliced off is tall too, but brings the curve's ink along).
func (lay *layout) oneLiker(proj []int) func(a, b int) bool {
	H := lay.codeH
	return func(a, b int) bool {
		if float64(b-a) > 0.25*H {
			return false
		}
		top, at, total := 0, a, 0
		for c := a; c < b; c++ {
			total += proj[c]
			if proj[c] > top {
				top, at = proj[c], c
			}
		}
		if float64(top) < 0.7*H {
			return false
		}
		near := 0
		r := int(0.08 * H)
		for c := max(a, at-r); c < min(b, at+r+1); c++ {
			near += proj[c]
		}
		return float64(near) >= 0.75*float64(total)
	}
}

// cutCrossings is the largest number of strokes (column ink over pen width) any cut of g into k pieces
// goes through.
func (lay *layout) cutCrossings(g *group, k int) float64 {
	proj := lay.projection(g)
	worst := 0.0
	for _, p := range lay.cut(g, k)[1:] {
		worst = math.Max(worst, math.Min(float64(proj[p.leftCut()-g.x0]), lay.groupSeams(g).cost[p.leftCut()-g.x0])/lay.penW)
	}
	return worst
}

// piecesTall reports whether every piece of g cut into k is at least minH tall and at least ratio times as
// tall as the tallest piece.
func (lay *layout) piecesTall(g *group, k int, minH, ratio float64) bool {
	hs := lay.pieceHeights(g, k)
	if hs == nil {
		return false
	}
	lo, hi := math.Inf(1), 0.0
	for _, h := range hs {
		lo, hi = math.Min(lo, float64(h)), math.Max(hi, float64(h))
	}
	return lo >= minH && lo >= ratio*hi
}

// pieceHeights is the ink height of each piece of g cut into k (rows from its first to its last ink), nil when
// some piece holds no ink; worked out once per group and count.
func (lay *layout) pieceHeights(g *group, k int) []int {
	if hs, ok := g.heights[k]; ok {
		return hs
	}
	in := lay.compSet(g.comps)
	var hs []int
	for _, p := range lay.cut(g, k) {
		y0, y1 := math.MaxInt, math.MinInt
		for _, r := range lay.l.runs[lay.l.rowStart[g.y0]:lay.l.rowStart[g.y1]] {
			lo, hi := p.bounds(int(r.y))
			if int(r.x1) > lo && int(r.x0) < hi && in(r.comp) {
				y0, y1 = min(y0, int(r.y)), max(y1, int(r.y)+1)
			}
		}
		if y1 < y0 {
			hs = nil
			break
		}
		hs = append(hs, y1-y0)
	}
	if g.heights == nil {
		g.heights = map[int][]int{}
	}
	g.heights[k] = hs
	return hs
}

// projection counts ink pixels of g per column, once per group (the plan's counts, its cuts and the lattice ask
// again); callers only read it.
func (lay *layout) projection(g *group) []int {
	if g.proj != nil {
		return g.proj
	}
	// Each run adds one at its first column and takes it back after its last; the running sum is the count (a
	// run costs two steps, not one per pixel: a bold digit's runs are a dozen pixels long).
	w := g.w()
	proj := make([]int, w+1)
	in := lay.compSet(g.comps)
	for _, r := range lay.l.runs[lay.l.rowStart[g.y0]:lay.l.rowStart[g.y1]] {
		if in(r.comp) {
			proj[int(r.x0)-g.x0]++
			proj[int(r.x1)-g.x0]--
		}
	}
	n := 0
	for x, d := range proj[:w] {
		n += d
		proj[x] = n
	}
	g.proj = proj[:w:w]
	return g.proj
}

func (lay *layout) compSet(comps []int32) func(int32) bool {
	if len(comps) == 1 { // most groups are one component
		c0 := comps[0]
		return func(c int32) bool { return c == c0 }
	}
	return func(c int32) bool {
		_, ok := slices.BinarySearch(comps, c)
		return ok
	}
}

// wholeAspect bounds the width of the ink offered whole as one digit, in digit heights: MNIST digits fit a 20×20
// box, so a flat one (a 5 with a long detached bar) is up to about 2.5 times as wide as tall. At 1.7 such digits
// had no one-digit candidate and read as two or three (MNIST validation digits drawn as canvases: 10 → 6 of
// 5,000 split; the validation writers' digits and codes read the same).
const wholeAspect = 2.5

// alternatives lists segmentations, the planned one first, then variants that cut ambiguous groups into
// one more or one fewer digit — the recogniser can keep the one the model is surest about.
func (lay *layout) alternatives(opt Options, maxCands int) [][]piece {
	base := lay.pieces()
	out := [][]piece{base}
	if maxCands <= 1 {
		return out
	}
	H := lay.codeH
	typW := math.Max(lay.typW, 0.45*H)
	if len(base) > 1 && opt.ExpectDigits <= 1 {
		// All the ink as one digit, when it is no wider than a wide digit: a digit broken into pieces
		// (a 0 drawn in two strokes that do not meet, a 5 in three) is judged whole by the model.
		x0, x1 := lay.groups[0].x0, lay.groups[0].x1
		y0, y1 := lay.groups[0].y0, lay.groups[0].y1
		var all []int32
		for _, g := range lay.groups {
			x0, x1 = min(x0, g.x0), max(x1, g.x1)
			y0, y1 = min(y0, g.y0), max(y1, g.y1)
			all = append(all, g.comps...)
		}
		if float64(x1-x0) <= wholeAspect*math.Max(H, float64(y1-y0)) {
			slices.Sort(all)
			out = append(out, []piece{{comps: all, xlo: x0, xhi: x1}})
		}
	}
	for gi := range lay.groups {
		if len(out) >= maxCands {
			break
		}
		g := &lay.groups[gi]
		w := float64(g.w())
		var ks []int
		// A group is ambiguous when its width per digit is far from the typical digit width.
		// One more cut must leave pieces wide and tall enough for digits (unless the format asks for them).
		if per := w / float64(g.k); (per > 0.75*H || per > 1.3*typW) &&
			(opt.ExpectDigits > 0 || w/float64(g.k+1) >= 0.4*H && lay.piecesTall(g, g.k+1, 0.4*H, 0)) {
			ks = append(ks, g.k+1)
		}
		if g.k > 1 {
			ks = append(ks, g.k-1)
		}
		for _, k := range ks {
			if len(out) >= maxCands {
				break
			}
			var alt []piece
			for gj := range lay.groups {
				kk := lay.groups[gj].k
				if gj == gi {
					kk = k
				}
				alt = append(alt, lay.cut(&lay.groups[gj], kk)...)
			}
			out = append(out, alt)
		}
	}
	return out
}

// digit crops one piece from the mask and normalises it. ok is false when the piece holds no ink (a cut
// may leave an empty sliver).
func (lay *layout) digit(m *Mask, p piece, opt Options) (Digit, bool) {
	box, ok := lay.pieceBox(m, p)
	if !ok {
		return Digit{}, false
	}
	return lay.normalise(m, p, box, opt), true
}

// pieceBox is the ink box of a piece; ok is false when the piece holds no ink.
func (lay *layout) pieceBox(_ *Mask, p piece) (image.Rectangle, bool) {
	return lay.inkBox(p)
}

// inkBox is the ink box of a piece in the labelling's pixels; ok is false when the piece holds no ink.
func (lay *layout) inkBox(p piece) (image.Rectangle, bool) {
	l := lay.l
	box := image.Rectangle{Min: image.Point{math.MaxInt, math.MaxInt}}
	for _, c := range p.comps {
		cc := &l.comps[c]
		if cc.x1 <= p.xlo || cc.x0 >= p.xhi {
			continue
		}
		for _, r := range l.runs[l.rowStart[cc.y0]:l.rowStart[cc.y1]] {
			if r.comp != c {
				continue
			}
			lo, hi := p.bounds(int(r.y))
			x0, x1 := max(int(r.x0), lo), min(int(r.x1), hi)
			if x0 >= x1 {
				continue
			}
			box.Min.X, box.Max.X = min(box.Min.X, x0), max(box.Max.X, x1)
			box.Min.Y, box.Max.Y = min(box.Min.Y, int(r.y)), max(box.Max.Y, int(r.y)+1)
		}
	}
	if box.Empty() {
		return image.Rectangle{}, false
	}
	return box, true
}

// cropStack is the size of the crop buffer normalise keeps on its stack: a small canvas's digit (a 76×64 grey
// canvas's digit crop is ~40×34) is cropped into memory that is already in cache instead of a fresh allocation;
// larger crops use the layout's buffer.
const cropStack = 2048

// normalise crops a piece with ink box box from the mask and normalises it.
func (lay *layout) normalise(m *Mask, p piece, box image.Rectangle, opt Options) Digit {
	var stack [cropStack]float32
	buf, cw, ch, in := lay.cropPiece(m, p, box, stack[:0])
	d := Digit{Box: box}
	T := opt.strokeWidth()
	if m.Strokes != nil {
		if paths := lay.strokePieces(m.Strokes, p, box, in); len(paths) > 0 {
			d.Input = fromStrokes(paths, T, 0.25*lay.codeH)
			return d
		}
	}
	d.Input = fromCrop(buf, cw, ch, T)
	return d
}

// cropPiece crops a piece with ink box box from the mask (coverage 0..1, cw×ch, in buf when it has the room, else
// in the layout's shared crop buffer): the piece's pixels and a pixel of anti-aliased fringe, none across a cut
// nor of other components (in reports the piece's components).
func (lay *layout) cropPiece(m *Mask, p piece, box image.Rectangle, buf []float32) (_ []float32, cw, ch int, in func(int32) bool) {
	l := lay.l
	in = lay.compSet(p.comps)
	// The anti-aliased fringe lies just outside the thresholded box; keep one pixel of it, but never across
	// a cut.
	crop := box.Inset(-1).Intersect(image.Rect(p.xlo, 0, p.xhi, m.H)).Intersect(image.Rect(0, 0, m.W, m.H))
	cw, ch = crop.Dx(), crop.Dy()
	// One crop buffer serves every digit of the layout that buf cannot hold (normalisation keeps nothing of it).
	if cap(buf) < cw*ch {
		if cap(lay.crop) < cw*ch {
			lay.crop = make([]float32, cw*ch)
		}
		buf = lay.crop
	}
	buf = buf[:cw*ch]
	for y := crop.Min.Y; y < crop.Max.Y; y++ {
		src := m.Pix[y*m.W+crop.Min.X : y*m.W+crop.Max.X]
		dst := buf[(y-crop.Min.Y)*cw : (y-crop.Min.Y+1)*cw]
		coverage(dst, src)
		if p.left != nil || p.right != nil {
			// A cut that follows the strokes: the pixels beyond it on this row are the neighbour's.
			lo, hi := p.bounds(y)
			for x := crop.Min.X; x < crop.Max.X; x++ {
				if x < lo || x >= hi {
					dst[x-crop.Min.X] = 0
				}
			}
		}
		// Ink of other digits and of dropped specks inside the box is not ours.
		for _, r := range l.runs[l.rowStart[y]:l.rowStart[y+1]] {
			if in(r.comp) {
				continue
			}
			x0, x1 := max(int(r.x0), crop.Min.X), min(int(r.x1), crop.Max.X)
			for x := x0; x < x1; x++ {
				dst[x-crop.Min.X] = 0
			}
		}
	}
	return buf, cw, ch, in
}

// coverageOf is float32(v) * (1.0 / 255) for each mask value v: the crop's coverage, looked up.
var coverageOf = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(v) * (1.0 / 255)
	}
	return t
}()

// coverage sets dst[i] to the coverage of mask value src[i] (coverageOf). Eight paper pixels in a row (zero
// bytes, most of a crop) are written as zeros at once.
func coverage(dst []float32, src []uint8) {
	for len(src) >= 8 && len(dst) >= 8 {
		d := (*[8]float32)(dst)
		if binary.LittleEndian.Uint64(src) == 0 {
			*d = [8]float32{}
		} else {
			s := (*[8]uint8)(src)
			d[0], d[1], d[2], d[3] = coverageOf[s[0]], coverageOf[s[1]], coverageOf[s[2]], coverageOf[s[3]]
			d[4], d[5], d[6], d[7] = coverageOf[s[4]], coverageOf[s[5]], coverageOf[s[6]], coverageOf[s[7]]
		}
		src, dst = src[8:], dst[8:]
	}
	for i := 0; i < len(src) && i < len(dst); i++ {
		dst[i] = coverageOf[src[i]]
	}
}

// strokePieces returns the parts of the strokes that run over the piece's ink, resampled at one canvas
// pixel so that a stroke crossing from one digit into the next is cut where it leaves the piece. Only the
// stretch of each segment inside the piece's ink box (box, plus a pixel of margin for rounding) is resampled —
// no sample outside it can be owned — so a segment costs the pixels it crosses in the box, not its length: a
// segment a million pixels long that only grazes the canvas costs a few operations, not a million.
func (lay *layout) strokePieces(strokes []Stroke, p piece, box image.Rectangle, in func(int32) bool) []Stroke {
	owns := func(q Point) bool {
		x, y := int(math.Floor(q.X)), int(math.Floor(q.Y))
		if lo, hi := p.bounds(y); x < lo || x >= hi {
			return false
		}
		c := lay.l.compAt(x, y)
		return c >= 0 && in(c)
	}
	clip := box.Inset(-1)
	var out []Stroke
	var cur Stroke
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	var own []bool
	for _, s := range strokes {
		if len(s) > 0 && owns(s[0]) {
			cur = append(cur, s[0])
		}
		for i := 1; i < len(s); i++ {
			a, b := s[i-1], s[i]
			n := max(1, int(math.Ceil(math.Hypot(b.X-a.X, b.Y-a.Y))))
			at := func(j int) Point {
				t := float64(j) / float64(n)
				return Point{a.X + t*(b.X-a.X), a.Y + t*(b.Y-a.Y)}
			}
			t0, t1, ok := segmentSpan(a, b, clip)
			if !ok {
				flush()
				continue
			}
			// Samples lo..hi cover the stretch inside clip (a sample more each side for rounding); the others
			// lie outside it, so they are not owned: one before lo or after hi ends the current piece.
			lo := max(1, int(math.Floor(t0*float64(n)))-1)
			hi := min(n, int(math.Ceil(t1*float64(n)))+1)
			if lo > 1 {
				flush()
			}
			own = own[:0]
			for j := lo; j <= hi; j++ {
				own = append(own, owns(at(j)))
			}
			for j := lo; j <= hi; j++ {
				if !own[j-lo] {
					flush()
					continue
				}
				// Samples in the middle of an owned stretch are collinear: keep the segment ends, where
				// the stroke enters or leaves the piece, and the original samples.
				if j == n || j == hi || len(cur) == 0 || !own[j-lo+1] {
					cur = append(cur, at(j))
				}
			}
			if hi < n {
				flush()
			}
		}
		flush()
	}
	return out
}

// segmentSpan is the parameter interval [t0, t1] of the segment a→b (the points a + t·(b−a)) that lies in
// the rectangle r, edges included; ok is false when the segment misses r (Liang–Barsky clipping).
func segmentSpan(a, b Point, r image.Rectangle) (t0, t1 float64, ok bool) {
	t0, t1 = 0, 1
	dx, dy := b.X-a.X, b.Y-a.Y
	for _, e := range [4][2]float64{
		{-dx, a.X - float64(r.Min.X)}, {dx, float64(r.Max.X) - a.X},
		{-dy, a.Y - float64(r.Min.Y)}, {dy, float64(r.Max.Y) - a.Y},
	} {
		p, q := e[0], e[1]
		switch {
		case p == 0 && q < 0:
			return 0, 0, false
		case p < 0:
			t0 = max(t0, q/p)
		case p > 0:
			t1 = min(t1, q/p)
		}
	}
	return t0, t1, t0 <= t1
}

// SegmentCandidates is Segment with alternatives: up to maxCands segmentations, the best guess first, then
// variants that cut one ambiguous wide group into one more (or one fewer) digit. Alternatives share Digit
// values for unchanged pieces (equal Box), so a caller can classify each distinct Box once and keep the
// segmentation with the most confident digits.
func SegmentCandidates(m *Mask, opt Options, maxCands int) ([][]Digit, error) {
	if maxCands < 1 {
		return nil, fmt.Errorf("ink: maxCands %d: %w", maxCands, ErrBadInput)
	}
	return segment(m, opt, maxCands)
}

// Whole normalises all the ink of a mask as one digit (specks of one or two pixels are dropped): for a canvas
// known to hold a single digit, and as the one-digit reading the recogniser weighs against a segmentation.
func Whole(m *Mask, opt Options) (Digit, error) {
	if err := m.validate(); err != nil {
		return Digit{}, err
	}
	lay, p, err := wholePiece(m)
	if err != nil {
		return Digit{}, err
	}
	d, ok := lay.digit(m, p, opt)
	if !ok {
		return Digit{}, ErrNoInk
	}
	return d, nil
}

// wholePiece is all the ink of a mask as one piece (specks of one or two pixels dropped), with its layout.
func wholePiece(m *Mask) (*layout, piece, error) {
	l := label(m)
	keep := make([]int32, 0, len(l.comps))
	for i, c := range l.comps {
		if c.area > 2 {
			keep = append(keep, int32(i))
		}
	}
	if len(keep) == 0 {
		return nil, piece{}, ErrNoInk
	}
	lay := &layout{l: l, codeH: inkHeight(l, keep), penW: penWidth(l, keep)}
	return lay, piece{comps: keep, xlo: 0, xhi: m.W}, nil
}
