package retrain

import (
	"fmt"
	"math/rand/v2"

	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// Writers makes labelled synthetic digits as the pad's preprocessing sees them. Retraining replays them so
// writing styles the generator knows are not forgotten; the evaluation uses seeds never used in training.
// shared/synth's richer writer generator can stand behind this interface.
type Writers interface {
	// Digits returns n digits (inputs 0..1, ink = 1) and their labels, deterministic given seed.
	Digits(seed uint64, n int) ([][784]float32, []uint8, error)
}

// StrokeWriters writes five-digit codes with shared/synth's stroke font and cuts them into model inputs with a
// recogniser's preprocessing (codes that do not segment into five digits are dropped and redrawn).
type StrokeWriters struct {
	Rec *recognize.Recognizer
	// Params gives the writer of one code (nil: RandomWriter).
	Params func(rng *rand.Rand, code string) synth.Params
}

// RandomWriter is a writer with a random slant, jitter, pace and styles.
func RandomWriter(rng *rand.Rand, _ string) synth.Params {
	p := synth.Defaults()
	p.Seed = rng.Uint64()
	p.Height = 80 + 60*rng.Float64()
	p.Slant = -0.15 + 0.45*rng.Float64()
	p.Jitter = 0.3 + 0.6*rng.Float64()
	p.Hurried = rng.IntN(5) == 0
	return p
}

// Style is one fixed way of writing: a slant and a style per digit (see synth.NumStyles; -1 = random), with the
// usual jitter.
type Style struct {
	Slant  float64
	Styles [10]int
	// Jitter adds to the usual 0.4..0.7; Hurried writes fast (rounded corners, overshoot, sparse samples).
	Jitter  float64
	Hurried bool
}

// SlantedHurried is a style the shipped model reads only a little worse than MNIST (about 98% of its digits
// right): a very strong forward slant, written in a hurry. BenchmarkRetrain_Cycle2000 writes clerks' codes with it.
var SlantedHurried = Style{Slant: 0.8, Hurried: true, Styles: [10]int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1}}

// StencilHand is a style the shipped model reads poorly (about 88% of its digits right on the style's
// validation codes, seed 555): every digit traced along a postal-code stencil (synth.Stencil: a box of two
// cells and a diagonal in each), hurried and slanted forward. A person reads it at once, but its 1 has a long
// flag from mid-height and its 8 is a box with a middle bar, and the model reads nearly every 1 as 7 and a
// third of the 8s as 0. The continual-learning proof test writes clerks' codes with it.
var StencilHand = Style{Slant: 0.4, Hurried: true, Styles: [10]int{synth.Stencil, synth.Stencil, synth.Stencil,
	synth.Stencil, synth.Stencil, synth.Stencil, synth.Stencil, synth.Stencil, synth.Stencil, synth.Stencil}}

// Writer returns the Params function of the style.
func (s Style) Writer(rng *rand.Rand, code string) synth.Params {
	p := synth.Defaults()
	p.Seed = rng.Uint64()
	p.Height = 90 + 40*rng.Float64()
	p.Slant = s.Slant + 0.05*(rng.Float64()-0.5)
	p.Jitter = s.Jitter + 0.4 + 0.3*rng.Float64()
	p.Hurried = s.Hurried
	for _, c := range code {
		p.Styles = append(p.Styles, s.Styles[c-'0'])
	}
	return p
}

// Canvas is the clerk's pad the writers write on (the proof test's canvas too).
const (
	CanvasW = 900
	CanvasH = 200
)

// WriteOnCanvas writes code with p on the CanvasW×CanvasH pad as a clerk does: centred, and smaller when the
// code would not fit (synth.FitWithin, a margin of a twentieth of the pad on each side). Placed by
// synth.Centered, which ignores slant, 202 of 250 codes of SlantedHurried ran past the pad's right edge, and
// every code read with a digit too few or too many was one of them: the segmenter had to find five digits in four.
func WriteOnCanvas(code string, p synth.Params) (*synth.Code, error) {
	p, err := synth.FitWithin(code, p, CanvasW, CanvasH, 0.9)
	if err != nil {
		return nil, fmt.Errorf("retrain: place %s: %w", code, err)
	}
	c, err := synth.Write(code, p)
	if err != nil {
		return nil, fmt.Errorf("retrain: write %s: %w", code, err)
	}
	return c, nil
}

// Digits implements Writers.
func (w StrokeWriters) Digits(seed uint64, n int) ([][784]float32, []uint8, error) {
	if w.Rec == nil {
		return nil, nil, fmt.Errorf("retrain: StrokeWriters needs a recogniser for the preprocessing")
	}
	params := w.Params
	if params == nil {
		params = RandomWriter
	}
	rng := rand.New(rand.NewPCG(seed, 0x3717))
	var xs [][784]float32
	var ls []uint8
	for tries := 0; len(xs) < n; tries++ {
		if tries > 4*n {
			return nil, nil, fmt.Errorf("retrain: synthetic codes do not segment (%d of %d digits after %d codes)", len(xs), n, tries)
		}
		code := make([]byte, 5)
		for i := range code {
			code[i] = byte('0' + rng.IntN(10))
		}
		p := params(rng, string(code))
		c, err := WriteOnCanvas(string(code), p)
		if err != nil {
			return nil, nil, err
		}
		res, err := w.Rec.Strokes(c.Strokes, CanvasW, CanvasH, recognize.Options{Format: "5"})
		if err != nil || len(res.Inputs) != len(code) {
			continue
		}
		for i := range code {
			if len(xs) < n {
				xs = append(xs, res.Inputs[i])
				ls = append(ls, code[i]-'0')
			}
		}
	}
	return xs, ls, nil
}
