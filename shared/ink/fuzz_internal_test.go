package ink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"testing"
)

// FuzzCapsule: for any segment and pen, the scanline rasteriser draws exactly what the bounding-box reference
// draws (seed corpus in testdata/fuzz/FuzzCapsule).
func FuzzCapsule(f *testing.F) {
	f.Add(3.5, 4.25, 40.0, 20.0, 2.5)
	f.Add(10.0, 10.0, 10.0, 10.0, 0.3)
	f.Add(-30.0, 5.0, 90.0, 5.0, 7.0)
	f.Fuzz(func(t *testing.T, ax, ay, bx, by, r float64) {
		for _, v := range []float64{ax, ay, bx, by} {
			if math.IsNaN(v) || math.Abs(v) > 1e4 {
				return
			}
		}
		if math.IsNaN(r) || r <= 0 || r > 40 {
			return
		}
		const w, h = 64, 48
		a := raster[uint8]{w: w, h: h, pix: make([]uint8, w*h), full: 255}
		b := raster[uint8]{w: w, h: h, pix: make([]uint8, w*h), full: 255}
		capsule(&a, ax, ay, bx, by, r)
		capsuleBox(&b, ax, ay, bx, by, r)
		if !bytes.Equal(a.pix, b.pix) {
			t.Fatalf("segment (%g,%g)-(%g,%g) r=%g: scanline and bounding-box rasterisers differ", ax, ay, bx, by, r)
		}
	})
}

// FuzzStrokes: any points (decoded from the fuzz bytes as float32 pairs, strokes split at NaN) on any small
// canvas either rasterise and segment, or fail with ErrBadInput/ErrTooLarge/ErrNoInk; never a panic.
func FuzzStrokes(f *testing.F) {
	f.Add(uint16(200), uint16(100), []byte{0, 0, 32, 65, 0, 0, 32, 65, 0, 0, 160, 65, 0, 0, 200, 66})
	f.Fuzz(func(t *testing.T, w, h uint16, pts []byte) {
		if w == 0 || h == 0 || int(w)*int(h) > 1<<20 {
			return
		}
		var strokes []Stroke
		var cur Stroke
		for i := 0; i+8 <= len(pts); i += 8 {
			x := float64(math.Float32frombits(binary.LittleEndian.Uint32(pts[i:])))
			y := float64(math.Float32frombits(binary.LittleEndian.Uint32(pts[i+4:])))
			if math.IsNaN(x) {
				strokes, cur = append(strokes, cur), nil
				continue
			}
			cur = append(cur, Point{X: x, Y: y})
		}
		strokes = append(strokes, cur)
		m, err := MaskFromStrokes(strokes, int(w), int(h))
		if err != nil {
			if !errors.Is(err, ErrBadInput) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if _, err := SegmentCandidates(m, Options{}, 3); err != nil && !errors.Is(err, ErrNoInk) {
			t.Fatalf("segment: %v", err)
		}
	})
}

// FuzzImage: any bytes that decode as a PNG or JPEG of at most 1 MP give a mask and a segmentation or ErrNoInk
// (seed corpus of small PNG and JPEG canvases in testdata/fuzz/FuzzImage).
func FuzzImage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width*cfg.Height > 1<<20 || cfg.Width > 4096 || cfg.Height > 4096 {
			return
		}
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		m, err := MaskFromImage(img)
		if err != nil {
			if !errors.Is(err, ErrBadInput) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("mask: %v", err)
			}
			return
		}
		if _, err := SegmentCandidates(m, Options{}, 3); err != nil && !errors.Is(err, ErrNoInk) {
			t.Fatalf("segment: %v", err)
		}
	})
}
