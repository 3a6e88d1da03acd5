package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"digitpad/shared/ink"
)

// Writer ids fall in three disjoint ranges so that the hands a model is trained on, the hands its checkpoints
// and thresholds are chosen on, and the hands it is evaluated on never overlap.
const (
	trainWriterBase uint64 = 0
	valWriterBase   uint64 = 1 << 40
	evalWriterBase  uint64 = 1 << 41
	writerRange     uint64 = 1 << 40
)

// WriterSet names one of the disjoint writer ranges.
type WriterSet int

// The writer ranges.
const (
	TrainWriters WriterSet = iota // hands for training data
	ValWriters                    // hands for validation: checkpoints, temperature, confirm threshold
	EvalWriters                   // hands for `make eval-pad`, never trained or tuned on
)

// WriterID returns the id of the i-th writer of a set.
func WriterID(set WriterSet, i uint64) uint64 {
	base := [...]uint64{trainWriterBase, valWriterBase, evalWriterBase}[set]
	return base + i%writerRange
}

// SetOf tells which range a writer id belongs to.
func SetOf(id uint64) WriterSet {
	switch {
	case id >= evalWriterBase:
		return EvalWriters
	case id >= valWriterBase:
		return ValWriters
	}
	return TrainWriters
}

// PenKind is the writing instrument.
type PenKind int

// Pens: a round pen of steady width, a flat nib whose width follows the stroke direction (thick–thin contrast
// down to hairlines), and a brush or felt pen whose width follows pressure.
const (
	RoundPen PenKind = iota
	NibPen
	BrushPen
)

// Writer is one hand: habits that stay the same across everything it writes. NewWriter derives them from an id.
type Writer struct {
	ID uint64
	// Style[d] is the habitual style of digit d (an index into the writer's styles); Alt is the chance of
	// another style on any one digit.
	Style [10]int
	Alt   float64
	// Slant shears digits (x grows by Slant·height from bottom to top); Jitter is the variation between
	// digits; Aspect stretches widths.
	Slant, Jitter, Aspect float64
	// Tremor is the amplitude of a fast wobble as a fraction of the digit height (unsteady hands).
	Tremor float64
	// Pen, PenWidth (fraction of the digit height at its widest), Contrast (hairline over full width for a
	// nib, 1 = none), NibAngle (radians), Pressure (relative width variation along strokes).
	Pen                          PenKind
	PenWidth, Contrast, NibAngle float64
	Pressure                     float64
	// Texture (0 flat .. 1 dry, streaky ink) and Shade (0 even .. 1 ink that fades along strokes).
	Texture, Shade float64
	// Gap between digits as a fraction of the height; negative overlaps neighbours.
	Gap float64
}

// Hand bounds how wild NewWriter's hands are: Steady gives ordinary writers, Unsteady adds strong slant,
// tremor and extreme pens.
type Hand int

// Hands.
const (
	AnyHand Hand = iota // a mix: most steady, some unsteady
	Steady
	Unsteady
)

// NewWriter derives a writer deterministically from its id.
func NewWriter(id uint64, hand Hand) Writer {
	rng := rand.New(rand.NewPCG(id, 0x5752_4954))
	if hand == AnyHand {
		hand = Steady
		if rng.Float64() < 0.3 {
			hand = Unsteady
		}
	}
	w := Writer{ID: id, Alt: 0.15 * rng.Float64(), Jitter: 0.2 + 0.5*rng.Float64(), Aspect: 1 + 0.15*rng.NormFloat64()}
	for d := range w.Style {
		w.Style[d] = rng.IntN(numWriterStyles(d))
	}
	w.Slant = 0.12 * rng.NormFloat64()
	w.PenWidth = 0.04 + 0.1*rng.Float64()
	w.Contrast = 1
	w.NibAngle = -math.Pi/6 + 0.5*rng.NormFloat64()
	switch r := rng.Float64(); {
	case r < 0.55:
		w.Pen = RoundPen
	case r < 0.8:
		w.Pen = NibPen
		w.Contrast = 0.1 + 0.4*rng.Float64()
		w.PenWidth = 0.06 + 0.1*rng.Float64()
	default:
		w.Pen = BrushPen
		w.Pressure = 0.2 + 0.4*rng.Float64()
	}
	if rng.Float64() < 0.3 {
		w.Texture = 0.6 * rng.Float64()
	}
	if rng.Float64() < 0.3 {
		w.Shade = 0.7 * rng.Float64()
	}
	w.Gap = 0.05 + 0.35*rng.Float64()
	if hand == Unsteady {
		w.Slant = 0.45 * (2*rng.Float64() - 1)
		w.Jitter = 0.6 + 0.6*rng.Float64()
		w.Tremor = 0.004 + 0.012*rng.Float64()
		switch rng.IntN(3) {
		case 0: // very thin
			w.PenWidth = 0.015 + 0.02*rng.Float64()
		case 1: // very thick
			w.PenWidth = 0.14 + 0.08*rng.Float64()
		}
		if w.Pen == NibPen {
			w.Contrast = 0.05 + 0.2*rng.Float64()
		}
	}
	w.Aspect = math.Max(0.7, math.Min(1.4, w.Aspect))
	return w
}

// Sheet is a written and rendered code.
type Sheet struct {
	Code  *Code
	Image *image.Gray
}

// Write writes text in the writer's hand on a w×h grey canvas, digits about height pixels tall, centred. The
// seed varies what changes from one writing to the next; tight forces touching neighbours.
func (wr Writer) Write(text string, seed uint64, w, h int, height float64, tight bool) (*Sheet, error) {
	if w <= 0 || h <= 0 || w*h > 1<<24 || height <= 0 {
		return nil, fmt.Errorf("synth: writer canvas %dx%d height %g", w, h, height)
	}
	rng := rand.New(rand.NewPCG(wr.ID, seed))
	p := Params{Seed: rng.Uint64(), Height: height, Slant: wr.Slant, Jitter: wr.Jitter, Gap: wr.Gap}
	if tight {
		p.Gap = -0.06 + 0.08*rng.Float64() // touching, some overlapping a little
	}
	styles := make([]int, len(text))
	for i, r := range text {
		d := int(r - '0')
		if d < 0 || d > 9 {
			return nil, fmt.Errorf("synth: %q is not a digit string", text)
		}
		styles[i] = wr.Style[d]
		if rng.Float64() < wr.Alt {
			styles[i] = rng.IntN(numWriterStyles(d))
		}
	}
	c, err := writeStyled(text, p, styles, wr.Aspect, wr.Tremor, rng)
	if err != nil {
		return nil, err
	}
	// Centre the code.
	b := c.Boxes[0]
	for _, r := range c.Boxes[1:] {
		b = b.Union(r)
	}
	dx := (float64(w)-float64(b.Dx()))/2 - float64(b.Min.X) + 0.05*float64(w)*rng.NormFloat64()*0.3
	dy := (float64(h)-float64(b.Dy()))/2 - float64(b.Min.Y)
	for si := range c.Strokes {
		for pi := range c.Strokes[si] {
			c.Strokes[si][pi].X += dx
			c.Strokes[si][pi].Y += dy
		}
	}
	for i := range c.Boxes {
		c.Boxes[i] = c.Boxes[i].Add(image.Pt(int(math.Round(dx)), int(math.Round(dy))))
	}
	img := wr.render(c.Strokes, w, h, height, rng)
	return &Sheet{Code: c, Image: img}, nil
}

// writeStyled is Write with per-digit styles from the writer's larger style table, a width stretch and
// tremor.
func writeStyled(text string, p Params, styles []int, aspect, tremor float64, rng *rand.Rand) (*Code, error) {
	c := &Code{Text: text}
	x := 0.0
	for i, r := range text {
		d := int(r - '0')
		g := writerGlyph(d, styles[i])
		drng := rand.New(rand.NewPCG(p.Seed, uint64(i)))
		strokes := writeGlyph(g, p, p.Jitter, false, drng)
		box := pathBox(strokes)
		cx := box.x0
		for si := range strokes {
			for pi := range strokes[si] {
				strokes[si][pi].x = cx + (strokes[si][pi].x-cx)*aspect
			}
		}
		if tremor > 0 {
			addTremor(strokes, tremor*p.Height, drng)
		}
		box = pathBox(strokes)
		dx := x - box.x0
		for si := range strokes {
			for pi := range strokes[si] {
				strokes[si][pi].x += dx
			}
		}
		box.x0 += dx
		box.x1 += dx
		for _, s := range strokes {
			c.Strokes = append(c.Strokes, sample(s, 1))
			c.Digit = append(c.Digit, i)
		}
		c.Boxes = append(c.Boxes, image.Rect(int(math.Floor(box.x0)), int(math.Floor(box.y0)),
			int(math.Ceil(box.x1)), int(math.Ceil(box.y1))))
		x = box.x1 + p.Gap*p.Height
	}
	return c, nil
}

// addTremor shakes dense paths with a few fast sine waves of random phase: an unsteady hand.
func addTremor(strokes [][]pt, amp float64, rng *rand.Rand) {
	for si, s := range strokes {
		n := len(s)
		type wave struct{ f, ph, ax, ay float64 }
		ws := make([]wave, 3)
		for k := range ws {
			ws[k] = wave{f: 4 + 12*rng.Float64(), ph: 2 * math.Pi * rng.Float64(), ax: amp * rng.NormFloat64(), ay: amp * rng.NormFloat64()}
		}
		for i := range s {
			t := float64(i) / float64(max(1, n-1))
			for _, w := range ws {
				v := math.Sin(2*math.Pi*w.f*t + w.ph)
				strokes[si][i].x += w.ax * v
				strokes[si][i].y += w.ay * v
			}
		}
	}
}

// render draws strokes with the writer's pen on a white canvas: ink grey from the coverage, the nib or the
// pressure setting the width at each point, texture and shade modulating the ink.
func (wr Writer) render(strokes []ink.Stroke, w, h int, height float64, rng *rand.Rand) *image.Gray {
	cov := make([]float32, w*h)
	full := math.Max(1, wr.PenWidth*height)
	thin := full * wr.Contrast
	ca, sa := math.Cos(wr.NibAngle), math.Sin(wr.NibAngle)
	for _, s := range strokes {
		n := len(s)
		phase := 2 * math.Pi * rng.Float64()
		freq := 1 + 2*rng.Float64()
		for i, q := range s {
			t := float64(i) / float64(max(1, n-1))
			var a, b, ux, uy float64 // semi-axes along (ux,uy) and across
			switch wr.Pen {
			case NibPen:
				a, b, ux, uy = full/2, math.Max(thin/2, 0.3), ca, sa
			default:
				r := full / 2
				if wr.Pen == BrushPen {
					// Pressure rises after touch-down, wanders, and lifts at the end.
					env := math.Min(1, math.Min(t*6+0.3, (1-t)*5+0.2))
					r *= env * (1 + wr.Pressure*math.Sin(2*math.Pi*freq*t+phase))
				}
				r = math.Max(r, 0.35)
				a, b, ux, uy = r, r, 1, 0
			}
			level := 1.0
			if wr.Shade > 0 {
				level = 1 - wr.Shade*(0.5+0.5*math.Sin(2*math.Pi*freq*t+phase))
			}
			stamp(cov, w, h, q.X, q.Y, a, b, ux, uy, float32(level))
		}
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	bg := 235 + 20*rng.Float64()
	inkLvl := 40 * rng.Float64()
	for i, c := range cov {
		v := float64(c)
		if wr.Texture > 0 && v > 0 {
			// Dry ink: per-pixel speckle and streaks along x.
			x, y := i%w, i/w
			streak := 0.5 + 0.5*math.Sin(float64(y)*0.9+math.Sin(float64(x)*0.13)*3)
			v *= 1 - wr.Texture*(0.6*rng.Float64()*streak+0.2*rng.Float64())
		}
		g := bg - v*(bg-inkLvl) + 3*rng.NormFloat64()
		img.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(g))))
	}
	return img
}

// stamp puts an anti-aliased ellipse (semi-axis a along (ux,uy), b across) of ink level lv at (cx,cy),
// keeping the darker of what is there and the stamp.
func stamp(cov []float32, w, h int, cx, cy, a, b, ux, uy float64, lv float32) {
	r := math.Max(a, b) + 1
	x0, x1 := max(0, int(math.Floor(cx-r))), min(w-1, int(math.Ceil(cx+r)))
	y0, y1 := max(0, int(math.Floor(cy-r))), min(h-1, int(math.Ceil(cy+r)))
	for y := y0; y <= y1; y++ {
		dy := float64(y) + 0.5 - cy
		for x := x0; x <= x1; x++ {
			dx := float64(x) + 0.5 - cx
			u := dx*ux + dy*uy
			v := -dx*uy + dy*ux
			// Distance outside the ellipse, approximated along its gradient.
			q := math.Sqrt(u*u/(a*a) + v*v/(b*b))
			if q == 0 {
				cov[y*w+x] = max(cov[y*w+x], lv)
				continue
			}
			g := math.Sqrt(u*u/(a*a*a*a)+v*v/(b*b*b*b)) / q
			d := (q - 1) / g
			c := math.Max(0, math.Min(1, 0.5-d))
			if b < 0.5 {
				c *= 2 * b // a hairline thinner than a pixel leaves faint ink
			}
			if cf := float32(c) * lv; cf > cov[y*w+x] {
				cov[y*w+x] = cf
			}
		}
	}
}
