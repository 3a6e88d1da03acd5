package train

import (
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
	"digitpad/train/mnist"
)

// PairOptions say how many two-digit inputs (ink.Lattice.Pair, ink.WholePair) to make for a reader of digit
// pairs, and from what.
type PairOptions struct {
	// Writers is the writer range of the synthetic codes (training or validation hands; never the evaluation
	// ones).
	Writers synth.WriterSet
	// N is the number of inputs that hold two neighbouring digits.
	N int
	// Outliers is the number of pair pieces of the same codes that do not hold two neighbours (labelled
	// Outlier for both digits).
	Outliers int
	// MNIST, when set, gives the digits of an MNISTShare of the N inputs: two of its digits composited side by
	// side, touching or overlapping.
	MNIST      *mnist.Set
	MNISTShare float64
	// Seed varies the draw.
	Seed uint64
	// Workers render in parallel (0 = GOMAXPROCS).
	Workers int
}

// PairSet is a set of pair inputs with two labellings: Left's labels are the left digits, Right's the right
// ones (images shared).
type PairSet struct {
	Left, Right *mnist.Set
}

// pairSample is one pair input and its digits (Outlier for a piece that is not a pair).
type pairSample struct {
	input       [784]float32
	left, right uint8
}

// MakePairSet writes o.N pairs and o.Outliers wrong pieces. Synthetic pairs are the pieces the recogniser's
// lattice offers for 5-digit codes (most written tightly), labelled from the writers' pen boxes: a pair piece
// centred on two neighbours and as wide as both is a pair, one far off is an outlier, those between are left
// out. Deterministic given the options.
func MakePairSet(o PairOptions) (*PairSet, error) {
	if o.Writers == synth.EvalWriters {
		return nil, errors.New("train: evaluation writers are never used for training or validation")
	}
	nm := 0
	if o.MNIST != nil {
		nm = int(math.Round(o.MNISTShare * float64(o.N)))
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Codes are written in rounds of one per worker and their samples taken in code order: the set does not
	// depend on the worker count's interleaving.
	var pairs, outs []pairSample
	for round := uint64(0); len(pairs) < o.N-nm || len(outs) < o.Outliers; round++ {
		if round > uint64(o.N+o.Outliers+100) {
			return nil, errors.New("train: too few pair pieces in the codes")
		}
		type result struct{ pairs, outs []pairSample }
		res := make([]result, workers)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[w].pairs, res[w].outs, errs[w] = codePairs(o, round*uint64(workers)+uint64(w))
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		for _, r := range res {
			pairs = append(pairs, r.pairs[:min(len(r.pairs), max(0, o.N-nm-len(pairs)))]...)
			outs = append(outs, r.outs[:min(len(r.outs), max(0, o.Outliers-len(outs)))]...)
		}
	}
	for i := range nm {
		s, err := mnistPair(o, uint64(i))
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, s)
	}
	all := append(pairs, outs...)
	rng := rand.New(rand.NewPCG(o.Seed, 0x9a1))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	ps := &PairSet{
		Left:  &mnist.Set{Images: make([]float32, len(all)*784), Labels: make([]uint8, len(all)), Rows: 28, Cols: 28},
		Right: &mnist.Set{Labels: make([]uint8, len(all)), Rows: 28, Cols: 28},
	}
	for i, s := range all {
		copy(ps.Left.Images[i*784:], s.input[:])
		ps.Left.Labels[i], ps.Right.Labels[i] = s.left, s.right
	}
	ps.Right.Images = ps.Left.Images
	return ps, nil
}

// codePairs writes code i and returns its lattice's pair pieces that hold two neighbours and those that do not.
func codePairs(o PairOptions, i uint64) (pairs, outs []pairSample, err error) {
	rng := rand.New(rand.NewPCG(o.Seed^0x9a12, i))
	wr := synth.NewWriter(synth.WriterID(o.Writers, o.Seed*9_000_011+(1<<31)+i), synth.AnyHand)
	text := fmt.Sprintf("%05d", rng.IntN(100000))
	height := 50 + 90*rng.Float64()
	sh, err := wr.Write(text, rng.Uint64(), 640, 240, height, rng.Float64() < 0.7)
	if err != nil {
		return nil, nil, err
	}
	var img image.Image = sh.Image
	if rng.IntN(4) == 0 {
		img = synth.Invert(sh.Image)
	}
	var opt ink.Options
	wm, err := ink.WorkMaskFromImage(img, opt)
	if err != nil {
		return nil, nil, nil
	}
	m, free, err := ink.SegmentFree(wm, opt, 3)
	if err != nil {
		return nil, nil, nil
	}
	opt.ExpectDigits = codeDigits
	_, lat, err := free.SegmentCandidatesLattice(opt, 0, recognize.MaxLatticeCandidates)
	if err != nil {
		return nil, nil, nil
	}
	for k, e := range lat.Pairs() {
		box := m.CanvasBox(e.Box)
		d, ok := pairLabel(box, sh.Code.Boxes)
		if !ok {
			continue
		}
		s := pairSample{input: lat.Pair(k), left: Outlier, right: Outlier}
		if d < 0 {
			outs = append(outs, s)
			continue
		}
		s.left, s.right = text[d]-'0', text[d+1]-'0'
		pairs = append(pairs, s)
	}
	return pairs, outs, nil
}

// pairLabel names the left digit d of the neighbours d, d+1 a pair piece with this box holds, or -1 for a piece
// far from every pair; ok is false for pieces too ambiguous to teach either way.
func pairLabel(box image.Rectangle, boxes []image.Rectangle) (d int, ok bool) {
	bestOff := math.Inf(1)
	d = -1
	for i := 0; i+1 < len(boxes); i++ {
		u := boxes[i].Union(boxes[i+1])
		w := float64(u.Dx())
		off := math.Max(math.Abs(float64(box.Min.X+box.Max.X-u.Min.X-u.Max.X)/2)/w, math.Abs(float64(box.Dx())/w-1))
		if off < bestOff {
			bestOff, d = off, i
		}
	}
	switch {
	case bestOff < pairFit:
		return d, true
	case bestOff > 2*pairFit:
		return -1, true
	}
	return 0, false
}

// pairFit is how far (centre and width, in shares of the pair's width) a pair piece may be off two neighbours
// and still teach them.
const pairFit = 0.12

// mnistPair composites two MNIST digits touching or overlapping (i-th draw) and normalises the ink as a pair.
func mnistPair(o PairOptions, i uint64) (pairSample, error) {
	rng := rand.New(rand.NewPCG(o.Seed^0x3a17, i))
	n := o.MNIST.Len()
	a, b := rng.IntN(n), rng.IntN(n)
	var ds [2][784]float32
	copy(ds[0][:], o.MNIST.Image(a))
	copy(ds[1][:], o.MNIST.Image(b))
	height := 40 + 80*rng.Float64()
	p := synth.CompositeParams{Seed: rng.Uint64(), Height: height, Gap: -0.2 + 0.25*rng.Float64(),
		Thickness: 0.6*rng.Float64() - 0.3, Jitter: 0.5 * rng.Float64(), Center: true}
	img, _, err := synth.Composite(ds[:], int(3*height), int(1.6*height), p,
		synth.Pen{Ink: image.Black.C, Background: image.White.C})
	if err != nil {
		return pairSample{}, err
	}
	m, err := ink.MaskFromImage(img)
	if err != nil {
		return pairSample{}, fmt.Errorf("train: mnist pair %d: %w", i, err)
	}
	in, err := ink.WholePair(m, ink.Options{})
	if err != nil {
		return pairSample{}, fmt.Errorf("train: mnist pair %d: %w", i, err)
	}
	return pairSample{input: in, left: o.MNIST.Labels[a], right: o.MNIST.Labels[b]}, nil
}
