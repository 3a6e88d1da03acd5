package recognize

import (
	"fmt"
	"image"
	"math"
	"slices"

	"digitpad/shared/ink"
	"digitpad/shared/model"
)

// PairReader reads pieces of touching digits that hold two of them (ink.Lattice.Pairs): where strokes cross, a
// code has no cut between two neighbours, but a piece holding both has cuts on its sides. Left reads the left
// digit of a pair input (ink.Lattice.Pair: the piece squeezed to half its width, normalised like a digit) and
// Right the right one; both take 28×28 inputs and give 10 outputs, like the digit model. The recogniser offers
// such a piece as a lattice edge standing for two digits, read only when the image reading is in doubt.
type PairReader struct {
	Left, Right *model.Model
}

// NewPairReader checks the two models' shapes.
func NewPairReader(left, right *model.Model) (*PairReader, error) {
	for _, m := range []*model.Model{left, right} {
		if m == nil {
			return nil, fmt.Errorf("recognize: pair reader: nil model")
		}
		if m.InputSize() != 784 || m.OutputSize() != 10 {
			return nil, fmt.Errorf("recognize: pair reader: model takes %v inputs and gives %d outputs, want 1×28×28 -> 10",
				m.InputShape(), m.OutputSize())
		}
	}
	return &PairReader{Left: left, Right: right}, nil
}

// run classifies n inputs with m: 10 probabilities per input.
func run(m *model.Model, in []float32, n int) ([]float32, error) {
	out := make([]float32, n*10)
	if err := m.Run(in, n, out); err != nil {
		return nil, fmt.Errorf("recognize: pair reader: %w", err)
	}
	if !m.OutputIsProbability() {
		for i := range n {
			softmax(out[i*10 : (i+1)*10])
		}
	}
	return out, nil
}

const (
	// pairDoubt: the pair pieces are read only when the lattice's best reading scores below −pairDoubt (the sum
	// of its digits' log-confidences, geometry included). On validation codes (seed 11, exact / asking): 0.1
	// 94.2 / 19.0%, 0.3 and 0.6 94.3 / 18.9%, 1.0 94.2 / 18.8%, 1.5 93.7%, 2.0 92.1%; the pieces read fall only a
	// little (tight codes in doubt are far below any of them).
	pairDoubt = 0.6
	// pairPenalty is subtracted from a read pair edge's score (beside its geometric cost, as for single edges).
	// Chosen on validation codes (seed 11, 1,000, format 5; exact / asking / silent): 0.3 92.8 / 18.6 / 0.2%,
	// 0 93.9 / 18.7 / 0.2%, −0.5 94.2 / 19.0 / 0.1%, −1 93.9 / 19.2 / 0.1% (without pairs 89.0 / 18.6 / 0.2%). It
	// is a bonus: a pair's two confidences come from a reader trained with wrong pieces beside the pairs, and read
	// lower than the digit model's on the pieces it reads right.
	pairPenalty = -0.5
)

// addPairs adds the source lattice's pair pieces to lat as edges of two digits, unread.
func (j *Job) addPairs(lat *lattice, src *ink.Lattice) {
	for i, e := range src.Pairs() {
		lat.edges = append(lat.edges, latticeEdge{from: e.From, to: e.To, digit: edgeUnread, digit2: edgeUnread,
			box: j.m.CanvasBox(e.Box), cost: e.Cost, pair: true, pairIdx: i})
	}
	lat.pair, lat.halves = src.Pair, src.PairHalves
}

// edgeUnread marks a pair edge the pair reader has not read (it takes no part in paths).
const edgeUnread = -3

// pairScore is a read pair edge's share of a path's score.
func (j *Job) pairScore(e *latticeEdge) float64 {
	l := float64(slices.Max(j.probs[e.digit*10 : (e.digit+1)*10]))
	r := float64(slices.Max(j.probs[e.digit2*10 : (e.digit2+1)*10]))
	return math.Log(max(l, 1e-12)) + math.Log(max(r, 1e-12)) - latticeWeight*e.cost - pairPenalty
}

// readPairs reads, with the pair reader, the pair edges that could lie on a better path than the lattice's best
// reading, once every single edge is read or ruled out, and only when that reading is in doubt (below
// −pairDoubt): the left model reads every such piece, the right one those the left reading leaves a chance. Each read pair adds two digits to the job (boxes: the piece's halves; inputs: none until the reading
// takes them, pairInputs), already classified.
func (j *Job) readPairs() error {
	lat := j.lat
	if lat == nil || lat.pair == nil || lat.pairsAsked || lat.pending > 0 || j.format == nil || j.format.digits < 2 {
		return nil
	}
	lat.pairsAsked = true
	n := j.format.digits
	read := func(e *latticeEdge) (float64, bool) {
		if e.digit < 0 {
			return 0, false
		}
		return j.edgeScore(e), true
	}
	best := j.readScore(n)
	if math.IsInf(best, -1) || best >= -pairDoubt {
		return nil
	}
	fwd, bwd := lat.scores(n, read, false), lat.scores(n, read, true)
	// bound is the best score of a path through pair edge e without its reading (v added): log-confidences
	// are at most 0.
	bound := func(e *latticeEdge, v float64) float64 {
		return throughBound(fwd, bwd, e, n) + v - latticeWeight*e.cost - pairPenalty
	}
	var eis []int
	for ei := range lat.edges {
		if e := &lat.edges[ei]; e.pair && bound(e, 0) > best {
			eis = append(eis, ei)
		}
	}
	if len(eis) == 0 {
		return nil
	}
	in := make([]float32, len(eis)*784)
	for k, ei := range eis {
		x := lat.pair(lat.edges[ei].pairIdx)
		copy(in[k*784:], x[:])
	}
	// The left digits first: only pieces whose left reading leaves them a chance are read on the right.
	left, err := run(j.r.pair.Left, in, len(eis))
	if err != nil {
		return err
	}
	keep := 0
	for k, ei := range eis {
		if bound(&lat.edges[ei], math.Log(max(float64(slices.Max(left[k*10:(k+1)*10])), 1e-12))) <= best {
			continue
		}
		eis[keep] = ei
		copy(in[keep*784:(keep+1)*784], in[k*784:(k+1)*784])
		copy(left[keep*10:(keep+1)*10], left[k*10:(k+1)*10])
		keep++
	}
	if keep == 0 {
		return nil
	}
	right, err := run(j.r.pair.Right, in[:keep*784], keep)
	if err != nil {
		return err
	}
	lat.pairsRead = true
	for k, ei := range eis[:keep] {
		e := &lat.edges[ei]
		mid := (e.box.Min.X + e.box.Max.X) / 2
		e.digit = j.addRead(ink.Digit{Box: image.Rect(e.box.Min.X, e.box.Min.Y, mid, e.box.Max.Y)}, left[k*10:(k+1)*10])
		e.digit2 = j.addRead(ink.Digit{Box: image.Rect(mid, e.box.Min.Y, e.box.Max.X, e.box.Max.Y)}, right[k*10:(k+1)*10])
	}
	return nil
}

// addRead appends a digit read by another model than the job's (its probabilities given; no embedding: zeros)
// and returns its index.
func (j *Job) addRead(d ink.Digit, probs []float32) int {
	j.digits = append(j.digits, d)
	j.probs = append(j.probs, probs...)
	if j.taps != nil {
		j.taps = append(j.taps, make([]float32, j.r.model.TapSize())...)
	}
	return len(j.digits) - 1
}

// pairChoice is the lattice's reading once pair pieces are read: p, the best path with pair edges, when it reads
// another code than the best path of single edges; that path otherwise. A pair that only confirms the digits
// the single edges read leaves them their digit model's confidences (the pair reader's, trained with wrong
// pieces beside the pairs, are lower: the confirm threshold would ask more codes that read right).
func (j *Job) pairChoice(n int, p []int) []int {
	q := j.pathDigits(n, false)
	if q == nil || j.code(q) != j.code(p) {
		return p
	}
	return q
}

// code is the digits the model reads most probable for ids, as a string.
func (j *Job) code(ids []int) string {
	b := make([]byte, len(ids))
	for i, k := range ids {
		p := j.probs[k*10 : (k+1)*10]
		b[i] = byte('0' + slices.Index(p, slices.Max(p)))
	}
	return string(b)
}

// pairDigit reports whether the pair reader read digit k of the job.
func (j *Job) pairDigit(k int) bool {
	e, _ := j.pairEdge(k)
	return e != nil
}

// pairEdge is the read pair edge digit k of the job is a digit of (nil: none), and whether it is the right one.
func (j *Job) pairEdge(k int) (*latticeEdge, bool) {
	if j.lat == nil || !j.lat.pairsRead {
		return nil, false
	}
	for i := range j.lat.edges {
		if e := &j.lat.edges[i]; e.pair && (e.digit == k || e.digit2 == k) {
			return e, e.digit2 == k
		}
	}
	return nil, false
}

// pairInputs gives the pair-read digits among chosen (digit indices of the reading) their own inputs: each its
// half of the pair piece normalised as a digit (ink.Lattice.PairHalves), made only for the pieces the reading
// takes (every piece read would normalise ~6 pieces' halves per code in doubt). Feedback records keep
// them and retraining learns from them with that one digit's label: the pair input, both digits squeezed into
// one, the digit model reads as the digit written 41% of the time on validation codes, the halves 61%.
func (j *Job) pairInputs(chosen []int) {
	for _, k := range chosen {
		e, right := j.pairEdge(k)
		if e == nil || j.lat.halves == nil || right {
			continue // a right digit gets its input with its left one: a read pair is taken whole
		}
		j.digits[e.digit].Input, j.digits[e.digit2].Input = j.lat.halves(e.pairIdx)
	}
}
