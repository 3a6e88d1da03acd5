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

// read classifies n pair inputs: the left digits' and the right digits' probabilities, 10 per input.
func (p *PairReader) read(in []float32, n int) (left, right []float32, err error) {
	left, right = make([]float32, n*10), make([]float32, n*10)
	for _, side := range []struct {
		m   *model.Model
		out []float32
	}{{p.Left, left}, {p.Right, right}} {
		if err := side.m.Run(in, n, side.out); err != nil {
			return nil, nil, fmt.Errorf("recognize: pair reader: %w", err)
		}
		if !side.m.OutputIsProbability() {
			for i := range n {
				softmax(side.out[i*10 : (i+1)*10])
			}
		}
	}
	return left, right, nil
}

const (
	// pairDoubt: the pair pieces are read only when the lattice's best reading scores below −pairDoubt (the sum
	// of its digits' log-confidences, geometry included), as the stroke lattice is (strokeMargin).
	pairDoubt = 0.1
	// pairPenalty is subtracted from a pair edge's score: the pair reader reads wrong pieces more confidently
	// than the digit model reads wrong cuts, and a pair replaces a cut the geometry found.
	pairPenalty = 0.5
)

// addPairs adds the source lattice's pair pieces to lat as edges of two digits, unread.
func (j *Job) addPairs(lat *lattice, src *ink.Lattice) {
	for i, e := range src.Pairs {
		lat.edges = append(lat.edges, latticeEdge{from: e.From, to: e.To, digit: edgeUnread, digit2: edgeUnread,
			box: j.m.CanvasBox(e.Box), cost: e.Cost, pair: true, pairIdx: i})
	}
	lat.pair = src.Pair
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
// −pairDoubt). Each read pair adds two digits to the job (boxes: the piece's halves; inputs: the pair input),
// already classified.
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
	p := lat.path(n, read)
	if p == nil {
		return nil
	}
	best := 0.0
	for _, ei := range p {
		best += j.edgeScore(&lat.edges[ei])
	}
	if best >= -pairDoubt {
		return nil
	}
	fwd, bwd := lat.scores(n, read, false), lat.scores(n, read, true)
	var eis []int
	for ei := range lat.edges {
		e := &lat.edges[ei]
		if !e.pair {
			continue
		}
		v := -latticeWeight*e.cost - pairPenalty
		for c := 0; c+2 <= n; c++ {
			if fwd[c][e.from]+v+bwd[n-2-c][e.to] > best {
				eis = append(eis, ei)
				break
			}
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
	left, right, err := j.r.pair.read(in, len(eis))
	if err != nil {
		return err
	}
	for k, ei := range eis {
		e := &lat.edges[ei]
		var x [784]float32
		copy(x[:], in[k*784:(k+1)*784])
		mid := (e.box.Min.X + e.box.Max.X) / 2
		e.digit = j.addRead(ink.Digit{Box: image.Rect(e.box.Min.X, e.box.Min.Y, mid, e.box.Max.Y), Input: x}, left[k*10:(k+1)*10])
		e.digit2 = j.addRead(ink.Digit{Box: image.Rect(mid, e.box.Min.Y, e.box.Max.X, e.box.Max.Y), Input: x}, right[k*10:(k+1)*10])
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
