package synth

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"digitpad/shared/ink"
)

// Pen is how ink is put on a canvas.
type Pen struct {
	// Width is the pen diameter in pixels; zero means 4.
	Width float64
	// Ink is the ink colour; nil means black.
	Ink color.Color
	// Background is the canvas colour; nil means fully transparent.
	Background color.Color
}

// Render draws strokes on a w×h canvas with an anti-aliased round pen.
func Render(strokes []ink.Stroke, w, h int, pen Pen) (*image.RGBA, error) {
	width := pen.Width
	if width == 0 {
		width = 4
	}
	m, err := ink.MaskFromStrokesOpt(strokes, w, h, ink.Options{PenWidth: width})
	if err != nil {
		return nil, fmt.Errorf("synth: render: %w", err)
	}
	return Colorize(m, pen), nil
}

// Colorize paints a coverage mask with the pen's ink over its background.
func Colorize(m *ink.Mask, pen Pen) *image.RGBA {
	inkC := color.RGBAModel.Convert(orDefault(pen.Ink, color.Black)).(color.RGBA)
	bgC := color.RGBAModel.Convert(orDefault(pen.Background, color.Transparent)).(color.RGBA)
	img := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	// Premultiplied colours mix linearly, so over-compositing ink on background is one lerp per channel.
	var lut [256][4]uint8
	for c := 0; c < 256; c++ {
		f := float64(c) / 255
		mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(b)*f + float64(a)*(1-f))) }
		lut[c] = [4]uint8{mix(bgC.R, inkC.R), mix(bgC.G, inkC.G), mix(bgC.B, inkC.B), mix(bgC.A, inkC.A)}
	}
	for i, c := range m.Pix {
		copy(img.Pix[4*i:4*i+4], lut[c][:])
	}
	return img
}

func orDefault(c, d color.Color) color.Color {
	if c == nil {
		return d
	}
	return c
}
