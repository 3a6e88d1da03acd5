package train

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
	"digitpad/train/mnist"
)

// SynthOptions say how many synthetic digits to make and from which writers.
type SynthOptions struct {
	// Writers is the writer range (training or validation hands; never the evaluation ones).
	Writers synth.WriterSet
	// N is the number of digits.
	N int
	// Seed varies the draw.
	Seed uint64
	// PerWriter is how many digits each writer contributes (0 = 20).
	PerWriter int
	// Workers render in parallel (0 = GOMAXPROCS).
	Workers int
	// Slanted is the share of writers whose habitual slant is redrawn from the unsteady hands' wide range
	// (uniform in ±slantedRange): strongly slanted digits of steady writers' shapes, e.g. a flat-topped 3 that
	// slanted reads as a 5, are otherwise rare (0 = none; the other draws stay as they were).
	Slanted float64
	// Hairline is the share of writers given a pen whose thin strokes the ink mask may lose: a flat nib of
	// strong thick–thin contrast or a very thin round pen (as synth's unsteady hands draw them). A flat-topped 3
	// whose diagonal is a hairline reaches the model as a bar over a belly, like a 5; such pens are a minority of
	// steady hands (0 = none).
	Hairline float64
	// FlatThree is the share of writers whose habitual 3 is the flat-topped one (synth.ThreeFlatTop) instead of
	// one of the three styles at random (0 = as drawn).
	FlatThree float64
}

// slantedRange bounds the slant of SynthOptions.Slanted writers, as for synth's unsteady hands.
const slantedRange = 0.45

// SynthSet writes N digits in the hands of synthetic writers and turns each into a 28×28 input the way the pad
// does (canvas -> ink mask -> crop -> normalisation). Most are single digits on their own canvas (read whole);
// a third come from codes of three digits, some written tightly, cut by the segmenter with the count known, so
// the model learns the pieces real cuts leave. Deterministic given the options.
func SynthSet(o SynthOptions) (*mnist.Set, error) {
	if o.Writers == synth.EvalWriters {
		return nil, errors.New("train: evaluation writers are never used for training or validation")
	}
	if o.N <= 0 {
		return &mnist.Set{Rows: 28, Cols: 28}, nil
	}
	per := o.PerWriter
	if per <= 0 {
		per = 20
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Items are rendered in blocks of one writer each; every block yields exactly per digits.
	blocks := (o.N + per - 1) / per
	out := &mnist.Set{Images: make([]float32, blocks*per*784), Labels: make([]uint8, blocks*per), Rows: 28, Cols: 28}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := w; b < blocks; b += workers {
				if err := synthBlock(o, uint64(b), per, out.Images[b*per*784:(b+1)*per*784], out.Labels[b*per:(b+1)*per]); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out.Slice(0, o.N), nil
}

// synthBlock fills per digits written by one writer.
func synthBlock(o SynthOptions, block uint64, per int, images []float32, labels []uint8) error {
	id := synth.WriterID(o.Writers, o.Seed*1_000_003+block)
	wr := synth.NewWriter(id, synth.AnyHand)
	wr = rareHabits(wr, o)
	rng := rand.New(rand.NewPCG(id, o.Seed))
	got := 0
	for attempt := uint64(0); got < per; attempt++ {
		if attempt > uint64(20*per) {
			return fmt.Errorf("train: synthetic writer %d: too few readable digits", id)
		}
		height := 24 + 100*rng.Float64()
		if rng.Float64() < 0.65 || per-got < 3 {
			d := rng.IntN(10)
			cw, ch := int(height*(1.2+rng.Float64())), int(height*(1.2+0.6*rng.Float64()))
			sh, err := wr.Write(string(rune('0'+d)), attempt, cw, ch, height, false)
			if err != nil {
				return err
			}
			m, err := ink.MaskFromImage(sh.Image)
			if err != nil {
				continue
			}
			dg, err := ink.Whole(m, ink.Options{})
			if err != nil {
				continue
			}
			copy(images[got*784:(got+1)*784], dg.Input[:])
			labels[got] = uint8(d)
			got++
			continue
		}
		text := fmt.Sprintf("%03d", rng.IntN(1000))
		tight := rng.Float64() < 0.5
		sh, err := wr.Write(text, attempt, int(height*3.2), int(height*1.5), height, tight)
		if err != nil {
			return err
		}
		m, err := ink.MaskFromImage(sh.Image)
		if err != nil {
			continue
		}
		ds, err := ink.Segment(m, ink.Options{ExpectDigits: 3})
		if err != nil || len(ds) != 3 || !cutsMatch(ds, sh.Code) {
			continue
		}
		for i, dg := range ds {
			copy(images[got*784:(got+1)*784], dg.Input[:])
			labels[got] = text[i] - '0'
			got++
		}
	}
	return nil
}

// rareHabits gives a training writer the habits SynthOptions.Slanted, Hairline and FlatThree ask for, each
// with its share, from a stream of its own (seeded by the writer and o.Seed), so the rest of the writer's
// digits are drawn as without them. With all three zero it returns wr unchanged.
func rareHabits(wr synth.Writer, o SynthOptions) synth.Writer {
	if o.Slanted <= 0 && o.Hairline <= 0 && o.FlatThree <= 0 {
		return wr
	}
	srng := rand.New(rand.NewPCG(wr.ID, o.Seed^0x51a7))
	if u, v := srng.Float64(), srng.Float64(); u < o.Slanted {
		wr.Slant = slantedRange * (2*v - 1)
	}
	if u, v, kind := srng.Float64(), srng.Float64(), srng.IntN(2); u < o.Hairline {
		if kind == 0 {
			wr.Pen, wr.Contrast, wr.PenWidth = synth.NibPen, 0.05+0.2*v, 0.06+0.1*v
		} else {
			wr.Pen, wr.Contrast, wr.PenWidth = synth.RoundPen, 1, 0.015+0.02*v
		}
	}
	if srng.Float64() < o.FlatThree {
		wr.Style[3] = synth.ThreeFlatTop
	}
	return wr
}

// cutsMatch reports whether every piece's centre lies inside its digit's pen box (so the label fits the
// piece); wrong cuts are dropped rather than taught.
func cutsMatch(ds []ink.Digit, c *synth.Code) bool {
	for i, d := range ds {
		cx := (d.Box.Min.X + d.Box.Max.X) / 2
		b := c.Boxes[i]
		if cx < b.Min.X || cx > b.Max.X {
			return false
		}
	}
	return true
}

// concat joins sets of 28×28 images.
func concat(sets ...*mnist.Set) *mnist.Set {
	out := &mnist.Set{Rows: 28, Cols: 28}
	for _, s := range sets {
		out.Images = append(out.Images, s.Images...)
		out.Labels = append(out.Labels, s.Labels...)
	}
	return out
}

// CanvasSet redraws n digits drawn at random from src as canvases of random size and polarity
// (synth.Upscale) and reads them back through the pad's pipeline as one digit each, so the model sees MNIST
// the way the pad hands it over. Deterministic given seed.
func CanvasSet(src *mnist.Set, n int, seed uint64) (*mnist.Set, error) {
	out := &mnist.Set{Images: make([]float32, n*784), Labels: make([]uint8, n), Rows: 28, Cols: 28}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				rng := rand.New(rand.NewPCG(seed^0xc0ffee, uint64(i)))
				k := rng.IntN(src.Len())
				var in [784]float32
				copy(in[:], src.Image(k))
				side := 40 + rng.IntN(120)
				cw := side + rng.IntN(side/2+1)
				img, err := synth.Upscale(&in, cw, side, synth.CanvasStyle(rng.IntN(3)))
				if err != nil {
					errs[w] = err
					return
				}
				d := in // a blank canvas (never in MNIST) keeps the raw image
				if m, err := ink.MaskFromImage(img); err == nil {
					if dg, err := ink.Whole(m, ink.Options{}); err == nil {
						d = dg.Input
					}
				}
				copy(out.Images[i*784:(i+1)*784], d[:])
				out.Labels[i] = src.Labels[k]
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
