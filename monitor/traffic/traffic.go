// Package traffic makes labelled canvases for monitoring: real MNIST digits composited into postal codes (the
// reference and the "same distribution" stream) and shifted writing from the project's stroke font (slanted,
// thick pens, rotated, unsteady) for drift proofs. Everything is seeded and deterministic.
package traffic

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

// Canvas size of generated codes: a 5-digit code at 80-pixel digit height fits with margins.
const (
	Width  = 560
	Height = 160
)

// Canvas is one labelled canvas.
type Canvas struct {
	Image  *image.RGBA
	Labels []int
}

// MNISTCode composites digit images (28×28, 0..1, ink = 1, with their labels) into one code, centred with
// gaps and some jitter, black ink on white, as a clerk's pad snapshot would look.
func MNISTCode(digits [][784]float32, labels []int, seed uint64) (Canvas, error) {
	rng := rand.New(rand.NewPCG(seed, 0xC0DE))
	p := synth.CompositeParams{Seed: seed, Height: 80 + 20*rng.Float64(), Gap: 0.4 + 0.2*rng.Float64(),
		Thickness: 0.3 * rng.Float64(), Jitter: 0.2, Center: true}
	img, _, err := synth.Composite(digits, Width, Height, p, synth.Pen{Ink: color.Black, Background: color.White})
	if err != nil {
		return Canvas{}, err
	}
	return Canvas{Image: img, Labels: labels}, nil
}

// Shift is a way of writing unlike the reference.
type Shift struct {
	// Slant shears the digits (fraction of height), Rotate turns the whole code (degrees).
	Slant, Rotate float64
	// Pen is the pen width in pixels (the reference's MNIST strokes are about 8–10 px at 80 px height).
	Pen float64
	// Jitter is the stroke font's wobble (0 none, 1 messy); Hurried adds overshoot and sparse samples.
	Jitter  float64
	Hurried bool
}

// Shifted is the shift the drift proofs use: slanted, thick pen, rotated, unsteady.
var Shifted = Shift{Slant: 0.35, Rotate: -12, Pen: 16, Jitter: 1, Hurried: true}

// WrittenCode writes a random code of n digits with the stroke font and the shift.
func WrittenCode(n int, s Shift, seed uint64) (Canvas, error) {
	rng := rand.New(rand.NewPCG(seed, 0xF00D))
	labels := make([]int, n)
	text := make([]byte, n)
	for i := range labels {
		labels[i] = rng.IntN(10)
		text[i] = byte('0' + labels[i])
	}
	p := synth.Params{Seed: seed, Height: 70 + 20*rng.Float64(), Gap: 0.3, Slant: s.Slant, Jitter: s.Jitter,
		Hurried: s.Hurried, Step: 3}
	p, err := synth.Fit(string(text), p, Width, Height)
	if err != nil {
		return Canvas{}, err
	}
	c, err := synth.Write(string(text), p)
	if err != nil {
		return Canvas{}, err
	}
	strokes := rotate(c.Strokes, s.Rotate*math.Pi/180, Width/2, Height/2)
	pen := s.Pen
	if pen == 0 {
		pen = 8
	}
	img, err := synth.Render(strokes, Width, Height, synth.Pen{Width: pen, Ink: color.Black, Background: color.White})
	if err != nil {
		return Canvas{}, fmt.Errorf("traffic: %w", err)
	}
	return Canvas{Image: img, Labels: labels}, nil
}

func rotate(ss []ink.Stroke, a, cx, cy float64) []ink.Stroke {
	sin, cos := math.Sincos(a)
	out := make([]ink.Stroke, len(ss))
	for i, s := range ss {
		out[i] = make(ink.Stroke, len(s))
		for j, q := range s {
			x, y := q.X-cx, q.Y-cy
			out[i][j] = ink.Point{X: cx + x*cos - y*sin, Y: cy + x*sin + y*cos}
		}
	}
	return out
}
