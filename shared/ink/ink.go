// Package ink turns a clerk's ink — a canvas snapshot or a list of strokes — into MNIST-style 28×28 digit inputs:
// polarity detection, ink mask, connected components, merging and splitting into digits, left to right, and
// MNIST normalisation (20×20 fit keeping aspect, area-averaged, centre of mass at 14,14, values 0..1, ink = 1).
package ink

import (
	"errors"
	"fmt"
	"image"
)

// ErrNoInk is returned for an empty or near-empty canvas.
var ErrNoInk = errors.New("no ink")

// ErrTooLarge is matched (errors.Is) by a *SizeError for a canvas above the pixel limit.
var ErrTooLarge = errors.New("canvas too large")

// ErrBadInput is wrapped by errors about malformed input: nil images, negative sizes, non-finite points,
// masks whose Pix does not match W×H.
var ErrBadInput = errors.New("bad ink input")

// DefaultMaxRasterCost is the rasterisation budget used when Options.MaxRasterCost is zero: 16 M pixel visits,
// some 20–60 ms of CPU to draw, far above a pad's strokes (a five-digit code on a 640×160 working raster costs
// ~0.1 M) and far below what 20,000 canvas-wide zigzag points would cost. It bounds the drawing, not the whole
// request: random strokes that fill a large canvas within it still cost 0.2–0.4 s of CPU in mask and
// segmentation (session 9's fuzzing); the server's admission, steered by what served predictions took, sheds
// around such requests rather than queueing behind them.
const DefaultMaxRasterCost = 16 << 20

// DefaultMaxPixels is the canvas pixel limit used when Options.MaxPixels is zero.
const DefaultMaxPixels = 16 << 20

// DefaultStrokeWidth is the stroke width, in pixels of the 28×28 frame, that digits are normalised to: the
// median MNIST test digit measured with StrokeWidth.
const DefaultStrokeWidth = 2.5

// SizeError reports a canvas larger than the allowed pixel count.
type SizeError struct {
	W, H, Max int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("canvas %dx%d has more than %d pixels: %v", e.W, e.H, e.Max, ErrTooLarge)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *SizeError) Is(target error) bool { return target == ErrTooLarge }

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

// Options tune mask building and segmentation; the zero value means defaults.
type Options struct {
	// ExpectDigits is the digit count of the expected code format (0 = unknown). When set, Segment splits the
	// widest groups or joins the narrowest neighbours to approach that count.
	ExpectDigits int
	// MaxPixels caps W×H of a canvas; zero means DefaultMaxPixels. Larger canvases give a *SizeError.
	MaxPixels int
	// PenWidth is the pen diameter in canvas pixels used by MaskFromStrokesOpt; zero means the default pen,
	// PenWidth(w, h).
	PenWidth float64
	// MaxRasterCost bounds the work of drawing strokes, in pixel visits as RasterCost counts them; zero means
	// DefaultMaxRasterCost. Costlier strokes give an error matching ErrTooLarge before anything is drawn.
	MaxRasterCost int64
	// StrokeWidth is the stroke width digits are normalised to in the 28×28 frame; zero means
	// DefaultStrokeWidth.
	StrokeWidth float64
}

func (o Options) maxPixels() int {
	if o.MaxPixels > 0 {
		return o.MaxPixels
	}
	return DefaultMaxPixels
}

func (o Options) maxRasterCost() int64 {
	if o.MaxRasterCost > 0 {
		return o.MaxRasterCost
	}
	return DefaultMaxRasterCost
}

func (o Options) strokeWidth() float64 {
	if o.StrokeWidth > 0 {
		return o.StrokeWidth
	}
	return DefaultStrokeWidth
}

func (o Options) checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("ink: canvas size %dx%d: %w", w, h, ErrBadInput)
	}
	if int64(w)*int64(h) > int64(o.maxPixels()) {
		return &SizeError{W: w, H: h, Max: o.maxPixels()}
	}
	return nil
}

// Mask is a canvas-sized ink coverage map: Pix[y*W+x] in 0..255, 255 = full ink.
type Mask struct {
	W, H int
	Pix  []uint8
	// Strokes, when set (MaskFromStrokes does), are the pen paths the mask was drawn from; Segment then renders
	// each digit's input from its strokes with an MNIST-like pen instead of resampling pixels.
	Strokes []Stroke
	// Factor, when above 1, says the mask is a canvas of CanvasW×CanvasH reduced by that factor (each mask pixel
	// is the average of Factor×Factor canvas pixels; see WorkMaskFromImage); CanvasBox maps boxes back.
	Factor           int
	CanvasW, CanvasH int
	full             func() *Mask // builds the canvas-resolution mask of a reduced one
	// paperOutside, when not empty, bounds the mask's ink: every pixel outside it is 0 (maskFromPlanes knows it
	// from the plane's white margins). Empty: anywhere. The labelling reads only inside it.
	paperOutside image.Rectangle
}

func (m *Mask) validate() error {
	if m == nil {
		return fmt.Errorf("ink: nil mask: %w", ErrBadInput)
	}
	if m.W <= 0 || m.H <= 0 || len(m.Pix) != m.W*m.H {
		return fmt.Errorf("ink: mask %dx%d with %d pixels: %w", m.W, m.H, len(m.Pix), ErrBadInput)
	}
	return nil
}

// MaskFromImage detects polarity (dark on light, light on dark, ink on transparent) and returns the ink mask.
func MaskFromImage(img image.Image) (*Mask, error) { return MaskFromImageOpt(img, Options{}) }

// MaskFromStrokes rasterises strokes on a w×h canvas with an anti-aliased pen, interpolating between samples.
func MaskFromStrokes(strokes []Stroke, w, h int) (*Mask, error) {
	return MaskFromStrokesOpt(strokes, w, h, Options{})
}

// Segment splits a mask into digits ordered left to right. It returns ErrNoInk when there is no ink.
func Segment(m *Mask, opt Options) ([]Digit, error) {
	cands, err := segment(m, opt, 1)
	if err != nil {
		return nil, err
	}
	return cands[0], nil
}
