// Package recognize turns ink into a postal code: segmentation (package ink), one batched model call (package
// model), and a Result with per-digit labels, confidences, boxes and "please confirm" flags.
package recognize

import (
	"fmt"
	"image"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"digitpad/shared/ink"
	"digitpad/shared/model"
)

// DefaultThreshold is the confirm score under which a code asks the clerk to confirm (ConfirmDigits) when
// neither the model card nor the caller sets one.
const DefaultThreshold = 0.9

// maxCachedFormats bounds the per-call formats a Recognizer keeps compiled.
const maxCachedFormats = 64

// ModelInfo names the model that produced a result.
type ModelInfo struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Config holds recogniser-wide settings.
type Config struct {
	// Threshold is the confirm policy's: a code whose confirm score (its confidence, lowered by Confirm for
	// doubtful shapes) is below it asks the clerk, and Result.Confirm lists the digits to check (ConfirmDigits).
	// Zero means DefaultThreshold.
	Threshold float64
	// Confirm is the model card's confirm model (zero: the code's confidence alone decides).
	Confirm ConfirmModel
	// StrokeThreshold and StrokeConfirm are the confirm policy of stroke input (confirmPolicy). Zero
	// StrokeThreshold means stroke input follows Threshold and Confirm.
	StrokeThreshold float64
	StrokeConfirm   ConfirmModel
	// Format is the default code format: "" (any), a digit count such as "5", or a regular expression
	// (ParseFormatWith).
	Format string
	// Patterns compiles the regular expressions of formats, this one and per-call ones (Options.Format). Nil
	// means DefaultPatterns: Go's regexp natively; none in js builds (the wasm bridge passes the browser's).
	Patterns PatternCompiler
	// InputScale multiplies the 0..1 ink inputs before the model sees them (the ONNX zoo MNIST model wants
	// 0..255). Zero means 1.
	InputScale float32
	// Ink tunes segmentation.
	Ink ink.Options
	// Temperature calibrates the model's probabilities (temperature scaling: p_i^(1/T), renormalised, the same
	// as dividing the logits by T), fitted on validation data and stored in the model card. Zero means 1.
	Temperature float64
	// Pair, when set, reads pieces of touching digits that hold two of them (see PairReader); nil: none.
	Pair *PairReader
	// Second, when set, reads again the digits of the final reading that are in doubt (see SecondReader); nil:
	// none.
	Second *SecondReader
}

// Options are per-call settings.
type Options struct {
	// Format overrides Config.Format when not empty.
	Format string
}

// Digit is one recognised digit.
type Digit struct {
	Digit      int         `json:"digit"`
	Confidence float64     `json:"confidence"`
	Probs      [10]float64 `json:"probs"`
	// Box is x0,y0,x1,y1 in canvas pixels (x1,y1 exclusive).
	Box [4]int `json:"box"`
	// Pair says the pair reader read the digit (one of two touching digits): its confidence is the pair
	// model's, which ConfirmModel weighs apart.
	Pair bool `json:"-"`
	// Edge says the digit's box touches the canvas's left or right edge: ink of it may lie beyond the canvas,
	// which ConfirmModel weighs.
	Edge bool `json:"-"`
	// Second says the second reader was consulted on the digit (Config.Second): Probs average both models'.
	Second bool `json:"-"`
}

// Result is the recognition of one canvas.
type Result struct {
	Code   string  `json:"code"`
	Digits []Digit `json:"digits"`
	// Confidence is the probability that the whole code is right: the product of the digit confidences.
	Confidence float64 `json:"confidence"`
	// Confirm lists indexes into Digits the clerk should check: empty when the code's Confidence reaches the
	// confirm threshold, else the least confident digits that keep it below (ConfirmDigits).
	Confirm []int `json:"confirm"`
	// FormatError says why Code does not match the format; empty when it matches or no format is set.
	FormatError string    `json:"format_error,omitempty"`
	Model       ModelInfo `json:"model"`
	// Inputs are the 28×28 model inputs (0..1, ink = 1), one per digit, kept for feedback records.
	Inputs [][784]float32 `json:"-"`
	// Embeddings are the digits' penultimate-layer values from the same model pass, one per digit, when the
	// model was compiled with a tap (model.WithTap; onnxrec does); nil otherwise. Drift monitoring reads them.
	Embeddings [][]float32 `json:"-"`
}

// Recognizer is safe for concurrent use. It is immutable: swapping models means building a new Recognizer.
type Recognizer struct {
	model     *model.Model
	info      ModelInfo
	threshold float64
	confirm   ConfirmModel
	strokes   policy // stroke input's confirm policy (confirmPolicy)
	invTemp   float64
	scale     float32
	inkOpt    ink.Options
	format    *Format
	patterns  PatternCompiler
	pair      *PairReader
	second    *SecondReader
	formats   sync.Map     // string -> *Format, per-call formats compiled once
	nformats  atomic.Int32 // entries in formats, bounded by maxCachedFormats
	bufs      sync.Pool
}

// New builds a recogniser around a loaded model. The model must take 28×28 inputs and give 10 outputs.
func New(m *model.Model, info ModelInfo, cfg Config) (*Recognizer, error) {
	if m == nil {
		return nil, fmt.Errorf("recognize: nil model")
	}
	if m.InputSize() != 784 || m.OutputSize() != 10 {
		return nil, fmt.Errorf("recognize: model takes %v inputs and gives %d outputs, want 1×28×28 -> 10",
			m.InputShape(), m.OutputSize())
	}
	f, err := ParseFormatWith(cfg.Format, cfg.Patterns)
	if err != nil {
		return nil, fmt.Errorf("recognize: %w", err)
	}
	r := &Recognizer{model: m, info: info, threshold: cfg.Threshold, confirm: cfg.Confirm, scale: cfg.InputScale, inkOpt: cfg.Ink,
		format: f, patterns: cfg.Patterns, pair: cfg.Pair, second: cfg.Second}
	if r.threshold <= 0 {
		r.threshold = DefaultThreshold
	}
	r.strokes = policy{model: cfg.StrokeConfirm, threshold: cfg.StrokeThreshold}
	if r.strokes.threshold <= 0 {
		r.strokes = policy{model: r.confirm, threshold: r.threshold}
	}
	if r.scale == 0 {
		r.scale = 1
	}
	if cfg.Temperature < 0 || math.IsNaN(cfg.Temperature) || math.IsInf(cfg.Temperature, 0) {
		return nil, fmt.Errorf("recognize: temperature %g must be positive", cfg.Temperature)
	}
	r.invTemp = 1
	if cfg.Temperature > 0 {
		r.invTemp = 1 / cfg.Temperature
	}
	if r.info.SHA256 == "" {
		r.info.SHA256 = m.SHA256()
	}
	return r, nil
}

// Info returns the model's name and sha256.
func (r *Recognizer) Info() ModelInfo { return r.info }

// Model returns the loaded model.
func (r *Recognizer) Model() *model.Model { return r.model }

// Image recognises a canvas snapshot (any size; dark-on-light, light-on-dark or ink on transparent). Canvases
// taller than ink.WorkHeight are masked and segmented at working resolution (ink.WorkMaskFromImage); boxes are
// in canvas pixels.
func (r *Recognizer) Image(img image.Image, opt Options) (*Result, error) {
	m, err := ink.WorkMaskFromImage(img, r.inkOpt)
	if err != nil {
		return nil, err
	}
	return r.Mask(m, opt)
}

// WorkHeight is the canvas height strokes are rasterised at: digits end up 20 pixels tall, so a taller raster
// only costs time (a 640×200 pad drawn at full size spends most of its recognition rasterising and resampling;
// in wasm a desktop pad took ~100 ms at full size, a few ms at 160 px). Pen width and segmentation scale with it.
// Images are reduced below the same height (ink.WorkFactor).
const WorkHeight = ink.WorkHeight

// WorkScale is the factor from canvas pixels to the working raster for a canvas h pixels high (1 for short ones).
func WorkScale(h int) float64 {
	if h <= WorkHeight {
		return 1
	}
	return float64(WorkHeight) / float64(h)
}

// WorkSize maps a canvas size to the working raster at scale s (at least 1×1).
func WorkSize(w, h int, s float64) (int, int) {
	return max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
}

// UnscaleBoxes maps digit boxes from a working raster at scale s back to a w×h canvas, rounding outwards.
func (res *Result) UnscaleBoxes(s float64, w, h int) {
	if s == 1 {
		return
	}
	for i := range res.Digits {
		b := &res.Digits[i].Box
		b[0] = max(0, int(math.Floor(float64(b[0])/s)))
		b[1] = max(0, int(math.Floor(float64(b[1])/s)))
		b[2] = min(w, int(math.Ceil(float64(b[2])/s)))
		b[3] = min(h, int(math.Ceil(float64(b[3])/s)))
	}
}

// Strokes recognises strokes drawn on a w×h canvas, rasterised at WorkHeight. Boxes are in canvas pixels.
func (r *Recognizer) Strokes(strokes []ink.Stroke, w, h int, opt Options) (*Result, error) {
	m, s, err := StrokesMask(strokes, w, h)
	if err != nil {
		return nil, err
	}
	res, err := r.Mask(m, opt)
	if err != nil {
		return nil, err
	}
	res.UnscaleBoxes(s, w, h)
	return res, nil
}

// Mask recognises an ink mask.
func (r *Recognizer) Mask(m *ink.Mask, opt Options) (*Result, error) {
	j, err := r.Prepare(m, opt)
	if err != nil {
		return nil, err
	}
	if err := r.Classify([]*Job{j}); err != nil {
		return nil, err
	}
	return j.Result(), nil
}

// Digits classifies already normalised 28×28 inputs (for example MNIST idx images) as one code, skipping
// segmentation. Boxes are the 28×28 frame.
func (r *Recognizer) Digits(inputs [][784]float32, opt Options) (*Result, error) {
	f, err := r.formatFor(opt)
	if err != nil {
		return nil, err
	}
	j := &Job{r: r, format: f, digits: make([]ink.Digit, len(inputs)), cands: [][]int{make([]int, len(inputs))}}
	for i := range inputs {
		j.digits[i] = ink.Digit{Box: image.Rect(0, 0, 28, 28), Input: inputs[i]}
		j.cands[0][i] = i
	}
	if err := r.Classify([]*Job{j}); err != nil {
		return nil, err
	}
	return j.Result(), nil
}

func (r *Recognizer) formatFor(opt Options) (*Format, error) {
	if opt.Format == "" {
		return r.format, nil
	}
	if f, ok := r.formats.Load(opt.Format); ok {
		return f.(*Format), nil
	}
	f, err := ParseFormatWith(opt.Format, r.patterns)
	if err != nil {
		return nil, err
	}
	// Clients choose formats, so the cache is bounded: past it, formats are compiled per call.
	if r.nformats.Add(1) <= maxCachedFormats {
		r.formats.Store(opt.Format, f)
	}
	return f, nil
}

// Job is a segmented canvas waiting for classification. It may hold several candidate segmentations (for
// example with and without a split of a wide group); Result keeps the one the model reads most confidently.
type Job struct {
	r      *Recognizer
	format *Format
	// digits are the distinct digit crops of all candidates; cands index into them, best geometric guess first.
	digits []ink.Digit
	cands  [][]int
	probs  []float32 // len(digits)*10, filled by Classify
	taps   []float32 // len(digits)*TapSize, filled by Classify when the model has a tap
	// later, when set, holds the free segmentation whose alternatives (all with more digits than its first) are
	// read only if the first's reading leaves them a chance (readLater).
	later *ink.Candidates
	// lat, when set, holds candidate digits of touching groups between cuts (ink.Lattice) for the format's
	// digit count; its edges index into digits once normalised.
	lat *lattice
	// index maps a digit's canvas box to its place in digits: crops with equal boxes are read once.
	index map[image.Rectangle]int
	// m is the mask the job's boxes were segmented on (canvas boxes: m.CanvasBox).
	m *ink.Mask
	// strokes, for a stroke mask, holds candidate digits made of whole strokes, read after the image candidates
	// when they leave it a chance (readStrokes, strokeChoice).
	strokes *strokeLattice
	// cutStrokes is, without a format, how many strokes the free segmentation's cut of one piece into two
	// digits goes through (ink.Candidates.CutStrokes; 0 for any other plan): wholeWins weighs it.
	cutStrokes float64
}

// lattice is an ink.Lattice whose edges the Job reads lazily: Classify first reads the candidate segmentations
// and the lattice's geometrically best path, then only the edges that could still lie on a better path.
type lattice struct {
	nodes   int
	edges   []latticeEdge
	read    map[image.Rectangle]func() ink.Digit // normalises the digit of a box
	pending int                                  // edges not yet read nor ruled out
	// deferred counts the edges that join two groups of ink (ink.LatticeEdge.Join), kept out of the reading
	// until it is in doubt (readJoins).
	deferred int
	// pair normalises pair piece i of the source lattice (ink.Lattice.Pair) for the pair reader, halves its two
	// digits apart (ink.Lattice.PairHalves: the read digits' inputs); pairsAsked is set once readPairs has acted,
	// pairsRead once it has read pair pieces.
	pair                  func(i int) [784]float32
	halves                func(i int) (left, right [784]float32)
	pairsAsked, pairsRead bool
}

// Edge states besides an index into Job.digits.
const (
	edgePending = -1 // not normalised yet
	edgePruned  = -2 // ruled out: no path through it can beat a path already read
	// edgeDeferred marks a join edge not yet in play (readJoins); -3 is a pair's edgeUnread.
	edgeDeferred = -4
)

type latticeEdge struct {
	from, to int
	digit    int             // index into Job.digits, or edgePending / edgePruned (for a pair: edgeUnread)
	box      image.Rectangle // in canvas pixels
	cost     float64
	// A pair edge stands for two digits, digit and digit2, read by the pair reader; pairIdx is its piece in the
	// source lattice's Pairs.
	pair    bool
	digit2  int
	pairIdx int
}

// span is the number of digits an edge stands for.
func (e *latticeEdge) span() int {
	if e.pair {
		return 2
	}
	return 1
}

// Len is the number of digits the job will send to the model at most (lattice edges not yet ruled out
// included).
func (j *Job) Len() int {
	n := len(j.digits)
	if j.lat != nil {
		n += j.lat.pending + j.lat.deferred // at most MaxLatticeCandidates (joins included)
	}
	if j.later != nil {
		for _, boxes := range j.later.Boxes[1:] {
			n += len(boxes)
		}
	}
	if j.strokes != nil {
		n += j.strokes.pending
	}
	return n
}

// maxCandidates bounds the alternative segmentations one canvas may send to the model.
const maxCandidates = 3

// Prepare segments a mask into a Job (CPU work that needs no model call). When the format fixes the number of
// digits, segmentations with that count are considered beside the free one.
func (r *Recognizer) Prepare(m *ink.Mask, opt Options) (*Job, error) {
	f, err := r.formatFor(opt)
	if err != nil {
		return nil, err
	}
	// A working-resolution mask serves separate digits; touching ones are cut at full resolution, and faint ink
	// that did not survive the reduction gets its chance there too.
	m, free, err := ink.SegmentFree(m, r.inkOpt, maxCandidates)
	if err != nil {
		return nil, err
	}
	j := &Job{r: r, format: f, m: m, index: map[image.Rectangle]int{}, strokes: newStrokeLattice(m, r.inkOpt)}
	if c := free.CutStrokes(); (f == nil || f.digits == 0) && !math.IsNaN(c) {
		j.cutStrokes = c
	}
	cands := []*ink.Candidates{free}
	expect := f != nil && f.digits > 0 && len(free.Boxes[0]) != f.digits && plausibleCount(free.Boxes[0], f.digits)
	io := r.inkOpt
	if f != nil {
		io.ExpectDigits = f.digits
	}
	if f != nil && f.digits > 0 && (plausibleCount(free.Boxes[0], f.digits) || ink.Touching(free.Boxes[0])) {
		// Touching digits: let the model judge where they part, among cuts that follow the strokes. When
		// the lattice holds a segmentation with the format's count, the reading is its best path, so the
		// candidate segmentations are only read where the lattice has a digit with the same box.
		nc := 0
		if expect {
			nc = maxCandidates
		}
		exp, lat, err := free.SegmentCandidatesLattice(io, nc, MaxLatticeCandidates)
		if err == nil && exp != nil {
			cands = append(cands, exp)
		}
		if err == nil && j.setLattice(lat, f.digits, cands) {
			return j, nil
		}
		expect = false // already among cands
	}
	if expect {
		// The format fixes the count and the ink could hold that many digits (touching or split ones): let
		// the model judge segmentations with the expected count too.
		if exp, err := ink.SegmentCandidateBoxes(m, io, maxCandidates); err == nil {
			cands = append(cands, exp)
		}
	}
	if len(cands) == 1 && (f == nil || f.digits == 0) && onlyMoreDigits(free) {
		j.later = free // read after its first segmentation, and only when that leaves them a chance (readLater)
	}
	for ci, cs := range cands {
		for c := range cs.Boxes {
			if ci == 0 && c > 0 && j.later != nil {
				break
			}
			j.addCand(cs, c)
		}
	}
	return j, nil
}

// addCand adds candidate segmentation c of cs to the job.
func (j *Job) addCand(cs *ink.Candidates, c int) {
	ids := make([]int, len(cs.Boxes[c]))
	for i, b := range cs.Boxes[c] {
		if k, ok := j.index[j.m.CanvasBox(b)]; ok {
			ids[i] = k // crops with equal boxes are read once
		} else {
			ids[i] = j.add(cs.Digit(c, i))
		}
	}
	j.cands = append(j.cands, ids)
}

// onlyMoreDigits reports whether every alternative of cs has more digits than its first segmentation: then,
// without a format, choose keeps the first unless an alternative reads moreDigitsMargin better on the geometric
// mean of its confidences (see choose).
func onlyMoreDigits(cs *ink.Candidates) bool {
	if len(cs.Boxes) < 2 {
		return false
	}
	for _, boxes := range cs.Boxes[1:] {
		if len(boxes) <= len(cs.Boxes[0]) {
			return false
		}
	}
	return true
}

// readLater adds the deferred alternatives (Job.later) to the job when the first segmentation's reading leaves
// one of them a chance to be chosen, and reports whether it did. A geometric mean of confidences is at most 1, so
// when the first reads at least 1 − moreDigitsMargin, no alternative with more digits can beat it: choose would
// return the first either way, and the alternatives' crops are neither normalised nor read (a wide single digit
// costs one model input instead of three).
func (j *Job) readLater() bool {
	cs := j.later
	if cs == nil {
		return false
	}
	j.later = nil
	if j.score(0, 0).geo+moreDigitsMargin >= 1 {
		return false
	}
	for c := 1; c < len(cs.Boxes); c++ {
		j.addCand(cs, c)
	}
	return true
}

// setLattice makes lat the job's reading when it holds a path of n digits, and reads the geometrically best
// such path at once: it bounds what the other edges must beat. It reports whether lat holds such a path. A
// lattice edge whose box is a candidate segmentation's digit is read as that digit (the first with that box,
// candidates before the lattice).
func (j *Job) setLattice(src *ink.Lattice, n int, cands []*ink.Candidates) bool {
	lat := &lattice{nodes: src.Nodes}
	first := map[image.Rectangle]func() ink.Digit{}
	for _, cs := range cands {
		for c, boxes := range cs.Boxes {
			for i, b := range boxes {
				if box := j.m.CanvasBox(b); first[box] == nil {
					first[box] = func() ink.Digit { return cs.Digit(c, i) }
				}
			}
		}
	}
	for i, e := range src.Edges {
		box := j.m.CanvasBox(e.Box)
		if first[box] == nil {
			first[box] = func() ink.Digit { return src.Digit(i) }
		}
		if e.Join {
			lat.edges = append(lat.edges, latticeEdge{from: e.From, to: e.To, digit: edgeDeferred, box: box, cost: e.Cost})
			lat.deferred++
			continue
		}
		lat.edges = append(lat.edges, latticeEdge{from: e.From, to: e.To, digit: edgePending, box: box, cost: e.Cost})
		lat.pending++
	}
	lat.priceWide(n)
	if j.r.pair != nil {
		j.addPairs(lat, src)
	}
	// Edges go left to right (from < to): in order of their start node they are in topological order.
	slices.SortStableFunc(lat.edges, func(a, b latticeEdge) int { return a.from - b.from })
	geo := func(e *latticeEdge) (float64, bool) { return -latticeWeight * e.cost, e.digit == edgePending }
	p := lat.path(n, geo)
	if p == nil && lat.deferred > 0 {
		// Only joins make a path of n digits: they are in play from the start.
		for ei := range lat.edges {
			if e := &lat.edges[ei]; e.digit == edgeDeferred {
				e.digit = edgePending
				lat.pending++
			}
		}
		lat.deferred = 0
		p = lat.path(n, geo)
	}
	if p == nil {
		return false
	}
	lat.read = first
	j.lat = lat
	ids := make([]int, n)
	for i, ei := range p {
		j.readEdge(ei)
		ids[i] = lat.edges[ei].digit
	}
	j.cands = [][]int{ids} // what choose falls back to; the lattice's best path always exists
	return true
}

// add appends a digit unless one with the same canvas box is there, and returns its index.
func (j *Job) add(d ink.Digit) int {
	d.Box = j.m.CanvasBox(d.Box) // a working-resolution mask's boxes, back in canvas pixels
	k, ok := j.index[d.Box]
	if !ok {
		k = len(j.digits)
		j.index[d.Box] = k
		j.digits = append(j.digits, d)
	}
	return k
}

// readEdge normalises a pending lattice edge into the job's digits.
func (j *Job) readEdge(ei int) {
	e := &j.lat.edges[ei]
	if e.digit != edgePending {
		return
	}
	if k, ok := j.index[e.box]; ok {
		e.digit = k
	} else {
		e.digit = j.add(j.lat.read[e.box]())
	}
	j.lat.pending--
}

// expand rules out the pending lattice edges that cannot lie on a better path than the best one already read
// and normalises some of the others for the next model call. A digit's log-confidence is at most 0, so a
// path's score is at most its bound: its read edges' scores minus latticeWeight times its unread edges' costs.
// An edge whose best bound is below the best read path's score is never chosen. Before the last round only the
// unread edges of the path with the best bound are read (best first: once that path is read entirely it is the
// best path); in the last round every edge still in play is. Either way the reading is what reading every edge
// would give. It reports whether digits were added.
func (j *Job) expand(last bool) bool {
	lat := j.lat
	if lat == nil || lat.pending == 0 || j.format == nil || j.format.digits < 1 {
		return false
	}
	n := j.format.digits
	bound := func(e *latticeEdge) (float64, bool) {
		switch e.digit {
		case edgePruned, edgeUnread, edgeDeferred:
			return 0, false
		case edgePending:
			return -latticeWeight * e.cost, true
		}
		return j.edgeScore(e), true
	}
	best := j.readScore(n)
	fwd := lat.scores(n, bound, false)
	bwd := lat.scores(n, bound, true)
	var onBest []int
	if !last {
		onBest = lat.path(n, bound)
	}
	added := false
	for ei := range lat.edges {
		e := &lat.edges[ei]
		if e.digit != edgePending {
			continue
		}
		ub := throughBound(fwd, bwd, e, n) - latticeWeight*e.cost
		if ub < best || math.IsInf(ub, -1) {
			e.digit = edgePruned
			lat.pending--
			continue
		}
		if last || slices.Contains(onBest, ei) {
			j.readEdge(ei)
			added = true
		}
	}
	if !added && lat.pending > 0 {
		// The path with the best bound is read: no pending edge can beat it.
		for ei := range lat.edges {
			if e := &lat.edges[ei]; e.digit == edgePending {
				e.digit = edgePruned
				lat.pending--
			}
		}
	}
	return added
}

// readScore is the score of the best path of n digits through the read edges (bestPath's), -Inf when there is
// none.
func (j *Job) readScore(n int) float64 {
	p := j.lat.path(n, func(e *latticeEdge) (float64, bool) {
		if e.digit < 0 {
			return 0, false
		}
		return j.edgeScore(e), true
	})
	if p == nil {
		return math.Inf(-1)
	}
	best := 0.0
	for _, ei := range p {
		best += j.edgeScore(&j.lat.edges[ei])
	}
	return best
}

// throughBound is the best total, over the digit positions edge e may take in a path of n digits (a pair edge
// spans two), of the paths' parts before and after it (fwd and bwd from lattice.scores): add e's own value for
// the bound of a path through it.
func throughBound(fwd, bwd [][]float64, e *latticeEdge, n int) float64 {
	ub, k := math.Inf(-1), e.span()
	for c := 0; c+k <= n; c++ {
		ub = max(ub, fwd[c][e.from]+bwd[n-k-c][e.to])
	}
	return ub
}

// edgeScore is a read edge's share of a path's score.
func (j *Job) edgeScore(e *latticeEdge) float64 {
	if e.pair {
		return j.pairScore(e)
	}
	conf := float64(slices.Max(j.probs[e.digit*10 : (e.digit+1)*10]))
	return math.Log(max(conf, 1e-12)) - latticeWeight*e.cost
}

// scores is the best total of val over paths of c digits (c = 0..n; a pair edge counts two) from node 0 to each
// node, or with back from each node to the last; -Inf where there is none. Edges without a value (ok false) are
// left out.
func (lat *lattice) scores(n int, val func(*latticeEdge) (float64, bool), back bool) [][]float64 {
	inf := math.Inf(-1)
	score := make([][]float64, n+1)
	for c := range score {
		score[c] = make([]float64, lat.nodes)
		for v := range score[c] {
			score[c][v] = inf
		}
	}
	if back {
		score[0][lat.nodes-1] = 0
	} else {
		score[0][0] = 0
	}
	for c := 1; c <= n; c++ {
		for k := range lat.edges {
			ei := k
			if back {
				ei = len(lat.edges) - 1 - k
			}
			e := &lat.edges[ei]
			if e.span() > c {
				continue
			}
			s, ok := val(e)
			if !ok {
				continue
			}
			if back {
				score[c][e.from] = max(score[c][e.from], score[c-e.span()][e.to]+s)
			} else {
				score[c][e.to] = max(score[c][e.to], score[c-e.span()][e.from]+s)
			}
		}
	}
	return score
}

// path is the path of exactly n digits (edges, a pair edge counting two) from the first node to the last
// maximising the sum of val (edges without a value left out), as edge indexes; nil when there is none. Ties go
// to the edge met first.
func (lat *lattice) path(n int, val func(*latticeEdge) (float64, bool)) []int {
	if n < 1 {
		return nil
	}
	inf := math.Inf(-1)
	score := make([][]float64, n+1)
	from := make([][]int, n+1)
	for c := range score {
		score[c] = make([]float64, lat.nodes)
		from[c] = make([]int, lat.nodes)
		for v := range score[c] {
			score[c][v] = inf
		}
	}
	score[0][0] = 0
	for c := 1; c <= n; c++ {
		for ei := range lat.edges {
			e := &lat.edges[ei]
			if e.span() > c {
				continue
			}
			prev := score[c-e.span()][e.from]
			if math.IsInf(prev, -1) {
				continue
			}
			v, ok := val(e)
			if !ok {
				continue
			}
			if s := prev + v; s > score[c][e.to] {
				score[c][e.to], from[c][e.to] = s, ei
			}
		}
	}
	if math.IsInf(score[n][lat.nodes-1], -1) {
		return nil
	}
	var p []int
	v := lat.nodes - 1
	for c := n; c > 0; {
		ei := from[c][v]
		p = append(p, ei)
		v = lat.edges[ei].from
		c -= lat.edges[ei].span()
	}
	slices.Reverse(p)
	return p
}

// MaxLatticeCandidates bounds the candidate digits a lattice (touching digits cut several ways) adds to one
// canvas's model call; callers that bound a job's size before classification allow for them. At 40 the lattice of a
// tightly written code was thinned to 10 cuts per group; 60 keeps ink.SegmentLattice's 14 (validation codes, format 5:
// seed 11 88.4 -> 89.0% exact, seed 12 90.2 -> 90.6%).
const MaxLatticeCandidates = 60

// latticeWeight converts the lattice's geometric cost (strokes crossed, width off typical) into log-probability
// units when the model's readings and the geometry are weighed together.
const latticeWeight = 0.3

// A single-digit edge much wider than the code's pitch (the extent of the lattice's ink over the format's digit
// count) is most likely two neighbours read as one, with a third digit cut in two to keep the count: it pays
// wideWeight times the square of its width in pitches beyond wideFrom, on top of its geometric cost. Chosen on
// validation codes, format 5 fp32, seed 11 (wideFrom 1.0/1.15/1.3/1.6, wideWeight 2-20): exact 94.5 -> 94.8%,
// asking 17.0 -> 16.6%, silent 0.2 -> 0.2%; held-out seed 12: 94.5 -> 94.7%, 16.4 -> 16.1%, 0.4 -> 0.4%.
const (
	wideFrom   = 1.3
	wideWeight = 5.0
)

// priceWide adds to the cost of each of lat's edges (single-digit ones: call it before the pairs are added) its
// price for being wide beyond wideFrom pitches, the pitch being the edges' extent over n digits.
func (lat *lattice) priceWide(n int) {
	if len(lat.edges) == 0 || n < 1 {
		return
	}
	x0, x1 := lat.edges[0].box.Min.X, lat.edges[0].box.Max.X
	for _, e := range lat.edges {
		x0, x1 = min(x0, e.box.Min.X), max(x1, e.box.Max.X)
	}
	pitch := float64(x1-x0) / float64(n)
	if pitch <= 0 {
		return
	}
	for i := range lat.edges {
		if d := float64(lat.edges[i].box.Dx())/pitch - wideFrom; d > 0 {
			lat.edges[i].cost += wideWeight * d * d
		}
	}
}

// bestPath is the segmentation through the lattice with exactly n digits that maximises the sum of the digits'
// log-confidences minus latticeWeight times their geometric cost, as indexes into digits; nil when no path has
// n digits. Edges not read (ruled out by expand) take no part.
func (j *Job) bestPath(n int) []int {
	if j.lat == nil {
		return nil
	}
	p := j.pathDigits(n, true)
	if p == nil || !j.lat.pairsRead {
		return p
	}
	return j.pairChoice(n, p)
}

// pathDigits is bestPath with or without pair edges.
func (j *Job) pathDigits(n int, pairs bool) []int {
	p := j.lat.path(n, func(e *latticeEdge) (float64, bool) {
		if e.digit < 0 || e.pair && !pairs {
			return 0, false
		}
		return j.edgeScore(e), true
	})
	if p == nil {
		return nil
	}
	ids := make([]int, 0, n)
	for _, ei := range p {
		e := &j.lat.edges[ei]
		ids = append(ids, e.digit)
		if e.pair {
			ids = append(ids, e.digit2)
		}
	}
	return ids
}

// plausibleCount reports whether the digits found could be re-cut into want digits: joined always, cut into more
// only where a digit is wider than a single digit (ink.SplitWidth code heights: touching or overlapping digits).
// The format never makes the recogniser cut ink of ordinary digits into more digits than the free segmentation
// shows, because a digit invented to fit the format is a misrouted parcel (issue 11: four written digits read as
// 31158). A clerk who has written too few digits gets a format error and inserts the digit.
func plausibleCount(boxes []image.Rectangle, want int) bool {
	if want < len(boxes) {
		return true
	}
	hs := make([]int, len(boxes))
	for i, b := range boxes {
		hs[i] = b.Dy()
	}
	slices.Sort(hs)
	h := float64(hs[len(hs)/2])
	for _, b := range boxes {
		if float64(b.Dx()) >= ink.SplitWidth*h {
			return true
		}
	}
	return false
}

// Classify runs one batched model call for all digits of all jobs (the server's dynamic batcher calls this),
// then up to latticeRounds smaller ones for the lattice edges of touching digits that the readings so far leave
// in play, and one for the stroke candidates of stroke input when the image reading leaves them a chance.
// All jobs must come from this Recognizer.
func (r *Recognizer) Classify(jobs []*Job) error {
	for _, j := range jobs {
		if j.r != r {
			return fmt.Errorf("recognize: job prepared by another recogniser")
		}
	}
	if err := r.classify(jobs); err != nil {
		return err
	}
	for round := 1; ; round++ {
		var more []*Job
		for _, j := range jobs {
			if j.readLater() || j.expand(round == latticeRounds) || j.readStrokes() || j.readJoins() {
				more = append(more, j)
			} else if err := j.readPairs(); err != nil {
				return err
			}
		}
		if len(more) == 0 {
			return nil
		}
		if err := r.classify(more); err != nil {
			return err
		}
		jobs = more
	}
}

// latticeRounds bounds the model calls that read lattice edges after the first call (see Job.expand).
const latticeRounds = 5

// classify reads the jobs' digits that have no probabilities yet, in one model call.
func (r *Recognizer) classify(jobs []*Job) error {
	n := 0
	for _, j := range jobs {
		n += len(j.digits) - len(j.probs)/10
	}
	if n == 0 {
		return nil
	}
	bp := r.buffer(n * 784)
	in := (*bp)[:n*784]
	k := 0
	for _, j := range jobs {
		for i := len(j.probs) / 10; i < len(j.digits); i++ {
			src := &j.digits[i].Input
			dst := in[k*784 : (k+1)*784]
			if r.scale == 1 {
				copy(dst, src[:])
			} else {
				for p, v := range src {
					dst[p] = v * r.scale
				}
			}
			k++
		}
	}
	out := make([]float32, n*10)
	var taps []float32
	ts := r.model.TapSize()
	var err error
	if ts > 0 {
		taps = make([]float32, n*ts)
		err = r.model.RunTap(in, n, out, taps)
	} else {
		err = r.model.Run(in, n, out)
	}
	r.bufs.Put(bp)
	if err != nil {
		return fmt.Errorf("recognize: model: %w", err)
	}
	if !r.model.OutputIsProbability() {
		for i := 0; i < n; i++ {
			softmax(out[i*10 : (i+1)*10])
		}
	}
	if r.invTemp != 1 {
		for i := 0; i < n; i++ {
			Temper(out[i*10:(i+1)*10], r.invTemp)
		}
	}
	k = 0
	for _, j := range jobs {
		m := len(j.digits) - len(j.probs)/10
		// Capacity-bounded slices: a job's later append copies instead of writing into its neighbour's part.
		p := out[k*10 : (k+m)*10 : (k+m)*10]
		if j.probs == nil {
			j.probs = p
		} else {
			j.probs = append(j.probs, p...)
		}
		if taps != nil {
			t := taps[k*ts : (k+m)*ts : (k+m)*ts]
			if j.taps == nil {
				j.taps = t
			} else {
				j.taps = append(j.taps, t...)
			}
		}
		k += m
	}
	return nil
}

func (r *Recognizer) buffer(n int) *[]float32 {
	if bp, ok := r.bufs.Get().(*[]float32); ok && cap(*bp) >= n {
		return bp
	}
	b := make([]float32, n)
	return &b
}

// Temper applies temperature scaling with 1/T = invTemp to probabilities p in place: p_i^(1/T), renormalised.
func Temper(p []float32, invTemp float64) {
	var sum float64
	for i, v := range p {
		e := math.Exp(math.Log(float64(v)) * invTemp)
		p[i] = float32(e)
		sum += e
	}
	if sum <= 0 || math.IsNaN(sum) {
		return
	}
	for i := range p {
		p[i] = float32(float64(p[i]) / sum)
	}
}

func softmax(v []float32) {
	mx := v[0]
	for _, x := range v[1:] {
		mx = max(mx, x)
	}
	var sum float64
	for i, x := range v {
		e := math.Exp(float64(x - mx))
		v[i] = float32(e)
		sum += e
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / sum)
	}
}

// choose picks the candidate segmentation to report. The geometric guess (first) stands unless another with the
// same fit to the format reads clearly more confidently; a candidate with the format's digit count then wins over
// one without if it reads about as confidently.
func (j *Job) choose() []int {
	if j.lat != nil && j.format != nil {
		if p := j.bestPath(j.format.digits); p != nil {
			return p
		}
	}
	if len(j.cands) == 1 {
		return j.cands[0]
	}
	want := 0
	if j.format != nil {
		want = j.format.digits
	}
	score := func(i int) scored { return j.score(i, want) }
	clearlyBetter := func(a, b scored) bool {
		return a.geo > b.geo+0.1 || a.geo > b.geo+0.04 && a.minC > b.minC+0.1
	}
	first := score(0)
	best := first
	var bestFit *scored
	if first.fits {
		bestFit = &first
	}
	for i := 1; i < len(j.cands); i++ {
		sc := score(i)
		if sc.fits {
			if bestFit == nil || clearlyBetter(sc, *bestFit) {
				bestFit = &sc
			}
		} else if want == 0 && best.i == 0 && len(j.cands[0]) == 2 && len(j.cands[i]) == 1 {
			// Without a format, all the ink as one digit against the geometry's two: a learned rule (wholeWins).
			if j.wholeWins(sc, best) {
				best = sc
			}
		} else if !first.fits && (clearlyBetter(sc, best) && (want > 0 || len(j.cands[i]) <= len(j.cands[0]) || sc.geo > best.geo+moreDigitsMargin) ||
			want == 0 && len(j.cands[i]) < len(j.cands[best.i]) && sc.minC >= 0.9 && sc.geo >= best.geo-0.02) {
			// Without a format, more digits than the geometry found must read far better (the model reads the
			// halves of a wide digit confidently too), and fewer digits that read surely and about as well
			// win: pieces that the model reads as one digit are one digit.
			best = sc
		}
	}
	if bestFit != nil && (best.fits || bestFit.geo >= best.geo-0.2 && bestFit.minC >= 0.3) {
		best = *bestFit
	}
	return j.cands[best.i]
}

// scored is a candidate segmentation's reading as choose weighs it.
type scored struct {
	i         int     // index into Job.cands
	geo, minC float64 // geometric mean and minimum of the digits' confidences
	fits      bool    // has the format's digit count
}

// score weighs candidate i; want is the format's digit count (0: none).
func (j *Job) score(i, want int) scored {
	sc := scored{i: i, minC: 1, fits: want > 0 && len(j.cands[i]) == want}
	for _, k := range j.cands[i] {
		conf := float64(slices.Max(j.probs[k*10 : (k+1)*10]))
		sc.geo += math.Log(max(conf, 1e-12))
		sc.minC = min(sc.minC, conf)
	}
	sc.geo = math.Exp(sc.geo / float64(len(j.cands[i])))
	return sc
}

// moreDigitsMargin is how much better, on the geometric mean of confidences, a segmentation with more digits than
// the geometry planned must read to be chosen without a format: the model reads the halves of a wide digit
// confidently too.
const moreDigitsMargin = 0.45

// Result assembles the Result of a classified job. It must be called after Classify.
func (j *Job) Result() *Result {
	chosen := j.strokeChoice(j.choose())
	j.pairInputs(chosen)
	res := &Result{
		Digits:     make([]Digit, len(chosen)),
		Confirm:    []int{},
		Confidence: 1,
		Model:      j.r.info,
		Inputs:     make([][784]float32, len(chosen)),
	}
	if j.taps != nil {
		res.Embeddings = make([][]float32, len(chosen))
	}
	code := make([]byte, len(chosen))
	for i, k := range chosen {
		d := j.digits[k]
		if j.taps != nil {
			ts := len(j.taps) / len(j.digits)
			res.Embeddings[i] = j.taps[k*ts : (k+1)*ts : (k+1)*ts]
		}
		p := j.probs[k*10 : (k+1)*10]
		var dg Digit
		for c := range 10 {
			dg.Probs[c] = float64(p[c])
			if p[c] > p[dg.Digit] {
				dg.Digit = c
			}
		}
		dg.Confidence = dg.Probs[dg.Digit]
		dg.Box = [4]int{d.Box.Min.X, d.Box.Min.Y, d.Box.Max.X, d.Box.Max.Y}
		dg.Pair = j.pairDigit(k)
		dg.Edge = j.atEdge(d.Box)
		res.Digits[i] = dg
		res.Inputs[i] = d.Input
	}
	if j.r.second != nil {
		j.r.second.consult(res)
	}
	for i, dg := range res.Digits {
		res.Confidence *= dg.Confidence
		code[i] = byte('0' + dg.Digit)
	}
	pol := j.confirmPolicy()
	res.Confirm = pol.model.Confirm(res.Digits, pol.threshold)
	res.Code = string(code)
	if f := j.format; !f.Match(res.Code) {
		res.FormatError = fmt.Sprintf("code %q does not match %s", res.Code, f.desc)
	}
	return res
}

// readJoins puts the lattice's join edges (pieces of two groups of ink read as one digit, ink.LatticeEdge.Join)
// in play once every other single edge is read or ruled out, before the pair pieces (readPairs), and only when
// the best reading is in doubt as for pairs (below −pairDoubt): joined, the pieces of two confident digits may
// read as one digit more confidently still, so a confident reading stands. A join is read only where a path
// through it (unread pair pieces counted at their best) could beat that reading. When only joins make a path of
// the format's count, setLattice puts them in play from the start. It reports whether it read joins.
func (j *Job) readJoins() bool {
	lat := j.lat
	if lat == nil || lat.deferred == 0 || lat.pending > 0 || j.format == nil || j.format.digits < 1 {
		return false
	}
	lat.deferred = 0
	n := j.format.digits
	best := j.readScore(n)
	if best >= -pairDoubt {
		return false
	}
	// A join is read when a path through it could beat that reading, the pair edges (read next, readPairs)
	// counted at their best (log-confidences are at most 0).
	bound := func(e *latticeEdge) (float64, bool) {
		switch {
		case e.digit == edgeDeferred:
			return -latticeWeight * e.cost, true
		case e.pair && e.digit == edgeUnread && j.r.pair != nil:
			return -latticeWeight*e.cost - pairPenalty, true
		case e.digit < 0:
			return 0, false
		}
		return j.edgeScore(e), true
	}
	fwd, bwd := lat.scores(n, bound, false), lat.scores(n, bound, true)
	read := false
	for ei := range lat.edges {
		e := &lat.edges[ei]
		if e.digit != edgeDeferred {
			continue
		}
		if throughBound(fwd, bwd, e, n)-latticeWeight*e.cost < best {
			e.digit = edgePruned
			continue
		}
		e.digit = edgePending
		lat.pending++
		j.readEdge(ei)
		read = true
	}
	return read
}
