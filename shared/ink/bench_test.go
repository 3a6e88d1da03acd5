package ink_test

import (
	"image/color"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

// benchCode is a 5-digit code written on a 640×200 pad, as the browser pad sends it.
func benchCode(b *testing.B) *synth.Code {
	b.Helper()
	p := synth.Defaults()
	p.Seed = 3
	p.Height = 120
	p = synth.Centered(p, 5, 640, 200)
	c, err := synth.Write("94107", p)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkSegmentCode640x200(b *testing.B) {
	c := benchCode(b)
	img, err := synth.Render(c.Strokes, 640, 200, synth.Pen{Width: 8, Ink: color.Black, Background: color.White})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("image", func(b *testing.B) {
		for b.Loop() {
			m, err := ink.MaskFromImage(img)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ink.Segment(m, ink.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strokes", func(b *testing.B) {
		for b.Loop() {
			m, err := ink.MaskFromStrokesOpt(c.Strokes, 640, 200, ink.Options{PenWidth: 8})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ink.Segment(m, ink.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mask-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := ink.MaskFromImage(img); err != nil {
				b.Fatal(err)
			}
		}
	})
	m, _ := ink.MaskFromImage(img)
	b.Run("segment-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := ink.Segment(m, ink.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
