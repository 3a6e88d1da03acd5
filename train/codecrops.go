package train

import (
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"runtime"
	"sync"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
	"digitpad/train/cnn"
	"digitpad/train/mnist"
)

// Outlier is the training label of a wrong cut (half a digit, two digits merged): its target is the uniform
// distribution over the ten digits, so the model's confidence in such pieces is low and the lattice of
// candidate cuts prefers the right ones ("outlier exposure"). The model keeps its ten outputs.
const Outlier = cnn.Classes

// CodeCropOptions say how many crops of segmented codes to make and from which writers.
type CodeCropOptions struct {
	// Writers is the writer range (training or validation hands; never the evaluation ones).
	Writers synth.WriterSet
	// N is the number of crops that hold exactly one digit (labelled with it).
	N int
	// Outliers is the number of wrong-cut crops (labelled Outlier); they come from the same codes.
	Outliers int
	// Seed varies the draw.
	Seed uint64
	// Tight is the share of codes written tightly (touching, overlapping neighbours); 0 means 0.6.
	Tight float64
	// Workers render in parallel (0 = GOMAXPROCS).
	Workers int
}

// codeDigits is the length of the codes crops are cut from (the pad's common format).
const codeDigits = 5

// CodeCropSet writes 5-digit codes in the hands of synthetic writers, many of them tight, and cuts each the
// way the recogniser does with the format's digit count known: the free segmentation and its alternatives, the
// segmentation with the expected count, and every candidate digit of the lattice of stroke-following cuts. Each
// distinct crop is labelled from the writer's pen boxes: a crop that covers one digit (and at most a sliver of
// its neighbours) gets that digit; one that covers less than ~60% of any digit, or most of two, is a wrong cut
// (Outlier); the crops in between are dropped. Deterministic given the options.
func CodeCropSet(o CodeCropOptions) (*mnist.Set, error) {
	if o.Writers == synth.EvalWriters {
		return nil, errors.New("train: evaluation writers are never used for training or validation")
	}
	if o.N < 0 || o.Outliers < 0 {
		return nil, errors.New("train: code crops: negative count")
	}
	if o.Tight == 0 {
		o.Tight = 0.6
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := &mnist.Set{Rows: 28, Cols: 28}
	if o.N == 0 && o.Outliers == 0 {
		return out, nil
	}
	// Codes are cut in rounds of a fixed number per worker-independent index, so the result does not depend
	// on the worker count; rounds stop when both quotas are full.
	const round = 64
	var pos, neg []crop
	for base := 0; len(pos) < o.N || len(neg) < o.Outliers; base += round {
		if base > 40*(o.N+o.Outliers)+1000 {
			return nil, fmt.Errorf("train: code crops: %d codes gave only %d digits and %d wrong cuts", base, len(pos), len(neg))
		}
		res := make([][]crop, round)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < round; i += workers {
					cs, err := codeCrops(o, uint64(base+i))
					if err != nil {
						errs[w] = err
						return
					}
					res[i] = cs
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		for _, cs := range res {
			for _, c := range cs {
				if c.label == Outlier {
					if len(neg) < o.Outliers {
						neg = append(neg, c)
					}
				} else if len(pos) < o.N {
					pos = append(pos, c)
				}
			}
		}
	}
	for _, c := range append(pos, neg...) {
		out.Images = append(out.Images, c.input[:]...)
		out.Labels = append(out.Labels, c.label)
	}
	return out, nil
}

type crop struct {
	input [784]float32
	label uint8
}

// codeCrops writes code i and returns its labelled crops (wrong cuts labelled Outlier).
func codeCrops(o CodeCropOptions, i uint64) ([]crop, error) {
	rng := rand.New(rand.NewPCG(o.Seed^0xc0de, i))
	wr := synth.NewWriter(synth.WriterID(o.Writers, o.Seed*7_000_003+(1<<30)+i), synth.AnyHand)
	text := fmt.Sprintf("%05d", rng.IntN(100000))
	height := 50 + 90*rng.Float64()
	tight := rng.Float64() < o.Tight
	sh, err := wr.Write(text, rng.Uint64(), 640, 240, height, tight)
	if err != nil {
		return nil, err
	}
	var img image.Image = sh.Image
	if rng.IntN(4) == 0 {
		img = synth.Invert(sh.Image)
	}
	digits := cutCandidates(img)
	out := make([]crop, 0, len(digits))
	for _, d := range digits {
		lab, ok := cropLabel(d.Box, sh.Code.Boxes)
		if !ok {
			continue
		}
		if lab != Outlier {
			lab = text[lab] - '0'
		}
		out = append(out, crop{input: d.Input, label: lab})
	}
	return out, nil
}

// cutCandidates are the distinct digit crops the recogniser may consider for a canvas read with a 5-digit format
// (recognize.Recognizer.Prepare: the free segmentation, segmentations with the format's count and the lattice's
// candidate digits, through the same ink calls), boxes in canvas pixels.
func cutCandidates(img image.Image) []ink.Digit {
	var opt ink.Options
	wm, err := ink.WorkMaskFromImage(img, opt)
	if err != nil {
		return nil
	}
	m, free, err := ink.SegmentFree(wm, opt, 3)
	if err != nil {
		return nil
	}
	seen := map[image.Rectangle]bool{}
	var out []ink.Digit
	add := func(d ink.Digit) {
		d.Box = m.CanvasBox(d.Box)
		if !seen[d.Box] {
			seen[d.Box] = true
			out = append(out, d)
		}
	}
	addAll := func(cs *ink.Candidates) {
		for c, boxes := range cs.Boxes {
			for i := range boxes {
				add(cs.Digit(c, i))
			}
		}
	}
	addAll(free)
	exp := opt
	exp.ExpectDigits = codeDigits
	cands, lat, err := free.SegmentCandidatesLattice(exp, 3, recognize.MaxLatticeCandidates)
	if err != nil {
		return out
	}
	if cands != nil {
		addAll(cands)
	}
	for i := range lat.Edges {
		add(lat.Digit(i))
	}
	return out
}

// cropLabel names the digit (index into boxes) a crop with this box holds, or Outlier for a wrong cut; ok is
// false for crops too ambiguous to teach either way. Coverage is horizontal: the share of a digit's pen box
// width the crop spans.
func cropLabel(box image.Rectangle, boxes []image.Rectangle) (uint8, bool) {
	best, second := -1, -1
	cover := make([]float64, len(boxes))
	for i, b := range boxes {
		lo, hi := max(box.Min.X, b.Min.X), min(box.Max.X, b.Max.X)
		if w := b.Dx(); w > 0 && hi > lo {
			cover[i] = float64(hi-lo) / float64(w)
		}
		switch {
		case best < 0 || cover[i] > cover[best]:
			best, second = i, best
		case second < 0 || cover[i] > cover[second]:
			second = i
		}
	}
	if best < 0 {
		return 0, false
	}
	other := 0.0
	if second >= 0 {
		other = cover[second]
	}
	switch {
	case cover[best] >= 0.85 && other <= 0.25:
		return uint8(best), true
	case cover[best] < 0.6 || other >= 0.5:
		return Outlier, true
	}
	return 0, false
}
