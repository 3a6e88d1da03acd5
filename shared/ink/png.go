package ink

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
)

// Image returns the mask as a grayscale image, ink white on black like MNIST. MaskFromImage reads it back
// (up to contrast stretching).
func (m *Mask) Image() (*image.Gray, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	g := image.NewGray(image.Rect(0, 0, m.W, m.H))
	copy(g.Pix, m.Pix)
	return g, nil
}

// EncodeMaskPNG writes the mask as a grayscale PNG (ink white on black): the ink image of feedback records.
func EncodeMaskPNG(w io.Writer, m *Mask) error {
	g, err := m.Image()
	if err != nil {
		return err
	}
	if err := png.Encode(w, g); err != nil {
		return fmt.Errorf("ink: encode mask png: %w", err)
	}
	return nil
}

// StrokesPNG is the ink image of a feedback record drawn as strokes on a w×h canvas: the strokes rasterised at
// the canvas size with the pen (MaskFromStrokes) and encoded by EncodeMaskPNG. The kiosk and the web pad (through
// the wasm bridge) both use it, so the same ink gives the same image.
func StrokesPNG(strokes []Stroke, w, h int) ([]byte, error) {
	m, err := MaskFromStrokes(strokes, w, h)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := EncodeMaskPNG(&buf, m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// InputByte is the one rounding of a 0..1 model input to the 0..255 byte that feedback records, input images
// and the prediction log carry: clamped, then v*255 rounded half up in float32 (NaN and below 0 give 0). The
// product is rounded to float32 before the half is added, so no platform fuses it into an FMA and rounds
// differently (the Go spec allows fusing x*y+z).
func InputByte(v float32) uint8 {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 1:
		return 255
	}
	return uint8(float32(v*255) + 0.5)
}

// InputImage returns a 28×28 model input as a grayscale image, ink white on black (0..1 mapped to 0..255 by
// InputByte).
func InputImage(in *[784]float32) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, side, side))
	for i, v := range in {
		g.Pix[i] = InputByte(v)
	}
	return g
}

// EncodeInputPNG writes a 28×28 model input as a grayscale PNG, ink white on black.
func EncodeInputPNG(w io.Writer, in *[784]float32) error {
	if err := png.Encode(w, InputImage(in)); err != nil {
		return fmt.Errorf("ink: encode input png: %w", err)
	}
	return nil
}

// InputFromImage reads a 28×28 grayscale input image written by EncodeInputPNG back into model input form.
func InputFromImage(img image.Image) (*[784]float32, error) {
	if img == nil || img.Bounds().Dx() != side || img.Bounds().Dy() != side {
		return nil, fmt.Errorf("ink: input image must be 28x28: %w", ErrBadInput)
	}
	var in [784]float32
	b := img.Bounds()
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			in[y*side+x] = float32(luma8(r>>8, g>>8, bb>>8)) / 255
		}
	}
	return &in, nil
}
