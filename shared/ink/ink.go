// Package ink turns a clerk's ink — a canvas snapshot or a list of strokes — into MNIST-style 28×28 digit inputs:
// polarity detection, ink mask, connected components, merging and splitting into digits, left to right, and
// MNIST normalisation (20×20 fit keeping aspect, area-averaged, centre of mass at 14,14, values 0..1, ink = 1).
package ink

import (
	"errors"
	"image"
)

// ErrNoInk is returned for an empty or near-empty canvas.
var ErrNoInk = errors.New("no ink")

// Point is a pointer sample in canvas coordinates.
type Point struct{ X, Y float64 }

// Stroke is one pen-down..pen-up path.
type Stroke []Point

// Digit is one segmented digit: its box in canvas coordinates (x0,y0 inclusive; x1,y1 exclusive) and its
// MNIST-style input, row-major 28×28, 0 = background, 1 = full ink.
type Digit struct {
	Box   image.Rectangle
	Input [784]float32
}

// Options tune segmentation; the zero value means defaults.
type Options struct{}

// Mask is a canvas-sized ink coverage map: Pix[y*W+x] in 0..255, 255 = full ink.
type Mask struct {
	W, H int
	Pix  []uint8
}

// MaskFromImage detects polarity (dark on light, light on dark, ink on transparent) and returns the ink mask.
func MaskFromImage(img image.Image) (*Mask, error) { panic("not yet") }

// MaskFromStrokes rasterises strokes on a w×h canvas with an anti-aliased pen, interpolating between samples.
func MaskFromStrokes(strokes []Stroke, w, h int) (*Mask, error) { panic("not yet") }

// Segment splits a mask into digits ordered left to right. It returns ErrNoInk when there is no ink.
func Segment(m *Mask, opt Options) ([]Digit, error) { panic("not yet") }
