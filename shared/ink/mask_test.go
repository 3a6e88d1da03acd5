package ink_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

// binaryIoU compares two masks thresholded at half coverage.
func binaryIoU(a, b *ink.Mask) float64 {
	inter, union := 0, 0
	for i := range a.Pix {
		x, y := a.Pix[i] >= 128, b.Pix[i] >= 128
		if x && y {
			inter++
		}
		if x || y {
			union++
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

func TestMaskFromImage_Polarity(t *testing.T) {
	const w, h = 640, 200
	c := mustWrite(t, "94107", codeParams(11, 5, 120, w, h))
	want, err := ink.MaskFromStrokesOpt(c.Strokes, w, h, ink.Options{PenWidth: 7})
	if err != nil {
		t.Fatal(err)
	}
	render := func(pen synth.Pen) *image.RGBA {
		pen.Width = 7
		return mustRender(t, c.Strokes, w, h, pen)
	}
	toGray := func(img image.Image) image.Image {
		g := image.NewGray(img.Bounds())
		draw.Draw(g, g.Bounds(), img, image.Point{}, draw.Src)
		return g
	}
	toNRGBA := func(img image.Image) image.Image {
		g := image.NewNRGBA(img.Bounds())
		draw.Draw(g, g.Bounds(), img, image.Point{}, draw.Src)
		return g
	}
	toPaletted := func(img image.Image) image.Image {
		pal := color.Palette{}
		for i := 0; i < 256; i++ {
			pal = append(pal, color.Gray{Y: uint8(i)})
		}
		g := image.NewPaletted(img.Bounds(), pal)
		draw.Draw(g, g.Bounds(), img, image.Point{}, draw.Src)
		return g
	}
	// A sub-image keeps its parent's coordinates: Bounds().Min is not (0,0).
	offset := func(img image.Image) image.Image {
		big := image.NewRGBA(image.Rect(0, 0, w+50, h+30))
		draw.Draw(big, big.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
		r := image.Rect(50, 30, w+50, h+30)
		draw.Draw(big, r, img, image.Point{}, draw.Over)
		return big.SubImage(r)
	}
	blue := color.RGBA{20, 40, 200, 255}
	paper := color.RGBA{235, 230, 215, 255}
	tests := []struct {
		name    string
		img     image.Image
		minIoU  float64
		nDigits int
	}{
		{"black on white RGBA", render(synth.Pen{Ink: black, Background: white}), 0.95, 5},
		{"black on white Gray", toGray(render(synth.Pen{Ink: black, Background: white})), 0.95, 5},
		{"white on black", render(synth.Pen{Ink: white, Background: black}), 0.95, 5},
		{"white on black Gray", toGray(render(synth.Pen{Ink: white, Background: black})), 0.95, 5},
		{"blue on paper", render(synth.Pen{Ink: blue, Background: paper}), 0.9, 5},
		{"black on transparent", render(synth.Pen{Ink: black}), 0.95, 5},
		{"white on transparent", render(synth.Pen{Ink: white}), 0.95, 5},
		{"blue on transparent NRGBA", toNRGBA(render(synth.Pen{Ink: blue})), 0.95, 5},
		{"paletted", toPaletted(render(synth.Pen{Ink: black, Background: white})), 0.95, 5},
		{"JPEG black on white", jpegRoundTrip(t, render(synth.Pen{Ink: black, Background: white}), 75), 0.85, 5},
		{"JPEG white on black", jpegRoundTrip(t, render(synth.Pen{Ink: white, Background: black}), 60), 0.85, 5},
		{"JPEG blue on paper", jpegRoundTrip(t, render(synth.Pen{Ink: blue, Background: paper}), 50), 0.8, 5},
		{"sub-image with offset bounds", offset(render(synth.Pen{Ink: black, Background: white})), 0.95, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ink.MaskFromImage(tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if m.W != w || m.H != h {
				t.Fatalf("mask size %dx%d, want %dx%d", m.W, m.H, w, h)
			}
			if got := binaryIoU(m, want); got < tt.minIoU {
				t.Errorf("IoU with the stroke mask = %.3f, want >= %.2f", got, tt.minIoU)
			}
			ds, err := ink.Segment(m, ink.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != tt.nDigits {
				t.Errorf("got %d digits, want %d", len(ds), tt.nDigits)
			}
		})
	}
}

func TestSegment_NoInk(t *testing.T) {
	uniform := func(c color.Color) image.Image {
		img := image.NewRGBA(image.Rect(0, 0, 640, 200))
		draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		return img
	}
	speck := func(bg, fg color.Color, size int) image.Image {
		img := uniform(bg).(*image.RGBA)
		draw.Draw(img, image.Rect(300, 100, 300+size, 100+size), image.NewUniform(fg), image.Point{}, draw.Src)
		return img
	}
	noisy := func() image.Image {
		img := uniform(white).(*image.RGBA)
		// Faint paper texture: well below ink contrast.
		for i := 0; i < len(img.Pix); i += 4 {
			v := uint8(235 + (i*7919)%17)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = v, v, v
		}
		return img
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{"white", uniform(white)},
		{"black", uniform(black)},
		{"transparent", uniform(color.Transparent)},
		{"paper texture", noisy()},
		{"single dark pixel", speck(white, black, 1)},
		{"tiny speck", speck(white, black, 3)},
		{"tiny speck on transparent", speck(color.Transparent, black, 3)},
		{"faint smudge", speck(white, color.Gray{Y: 230}, 40)},
		{"one pixel canvas", image.NewGray(image.Rect(0, 0, 1, 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ink.MaskFromImage(tt.img)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := ink.Segment(m, ink.Options{})
			if !errors.Is(err, ink.ErrNoInk) {
				t.Errorf("Segment = %d digits, %v; want ErrNoInk", len(ds), err)
			}
		})
	}
	t.Run("no strokes", func(t *testing.T) {
		m, err := ink.MaskFromStrokes(nil, 640, 200)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ink.Segment(m, ink.Options{}); !errors.Is(err, ink.ErrNoInk) {
			t.Errorf("Segment err = %v, want ErrNoInk", err)
		}
	})
}

// hugeImage claims a large size without holding pixels: the size check must come before any allocation.
type hugeImage struct{ image.Rectangle }

func (h hugeImage) ColorModel() color.Model { return color.GrayModel }
func (h hugeImage) Bounds() image.Rectangle { return h.Rectangle }
func (h hugeImage) At(x, y int) color.Color { return color.White }

func TestMaskFromImage_TooLarge(t *testing.T) {
	tests := []struct {
		name    string
		img     image.Image
		opt     ink.Options
		wantErr bool
	}{
		{"20000x20000 with default limit", hugeImage{image.Rect(0, 0, 20000, 20000)}, ink.Options{}, true},
		{"infinite uniform", image.NewUniform(white), ink.Options{}, true},
		{"640x200 under a 100k limit", image.NewGray(image.Rect(0, 0, 640, 200)), ink.Options{MaxPixels: 100_000}, true},
		{"640x200 under the default limit", image.NewGray(image.Rect(0, 0, 640, 200)), ink.Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ink.MaskFromImageOpt(tt.img, tt.opt)
			var se *ink.SizeError
			if got := errors.As(err, &se) && errors.Is(err, ink.ErrTooLarge); got != tt.wantErr {
				t.Errorf("err = %v, want too-large error: %v", err, tt.wantErr)
			}
		})
	}
	t.Run("strokes", func(t *testing.T) {
		_, err := ink.MaskFromStrokes([]ink.Stroke{{{X: 1, Y: 1}}}, 10000, 10000)
		if !errors.Is(err, ink.ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
	})
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		run  func() error
	}{
		{"nil image", func() error { _, err := ink.MaskFromImage(nil); return err }},
		{"empty image", func() error { _, err := ink.MaskFromImage(image.NewGray(image.Rect(0, 0, 0, 5))); return err }},
		{"zero-width canvas", func() error { _, err := ink.MaskFromStrokes(nil, 0, 100); return err }},
		{"NaN point", func() error {
			_, err := ink.MaskFromStrokes([]ink.Stroke{{{X: 1, Y: 1}, {X: math.NaN(), Y: 2}}}, 100, 100)
			return err
		}},
		{"infinite point", func() error {
			_, err := ink.MaskFromStrokes([]ink.Stroke{{{X: math.Inf(1), Y: 1}}}, 100, 100)
			return err
		}},
		{"nil mask", func() error { _, err := ink.Segment(nil, ink.Options{}); return err }},
		{"short mask", func() error {
			_, err := ink.Segment(&ink.Mask{W: 10, H: 10, Pix: make([]uint8, 5)}, ink.Options{})
			return err
		}},
		{"zero candidates", func() error {
			_, err := ink.SegmentCandidates(&ink.Mask{W: 1, H: 1, Pix: []uint8{0}}, ink.Options{}, 0)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, ink.ErrBadInput) {
				t.Errorf("err = %v, want ErrBadInput", err)
			}
		})
	}
}

func TestMaskFromStrokes_JoinsSparseSamples(t *testing.T) {
	// Two samples 300 pixels apart are one straight line, not two dots.
	m, err := ink.MaskFromStrokesOpt([]ink.Stroke{{{X: 10, Y: 50}, {X: 310, Y: 50}}}, 320, 100, ink.Options{PenWidth: 4})
	if err != nil {
		t.Fatal(err)
	}
	for x := 10; x < 310; x++ {
		if v := m.Pix[50*m.W+x]; v < 200 {
			t.Fatalf("pixel (%d,50) = %d, want ink along the whole segment", x, v)
		}
	}
	if v := m.Pix[56*m.W+100]; v != 0 {
		t.Errorf("pixel 6 below the line = %d, want 0 for a 4-pixel pen", v)
	}
}

func TestMaskPNG_RoundTrip(t *testing.T) {
	c := mustWrite(t, "60521", codeParams(5, 5, 120, 640, 200))
	m, err := ink.MaskFromStrokes(c.Strokes, 640, 200)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ink.EncodeMaskPNG(&buf, m); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ink.MaskFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// Reading back stretches contrast (the faintest fringe is treated as noise), so edges move slightly.
	if got := binaryIoU(back, m); got < 0.95 {
		t.Errorf("IoU after PNG round trip = %.3f, want >= 0.95", got)
	}

	ds, err := ink.Segment(m, ink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := ink.EncodeInputPNG(&buf, &ds[0].Input); err != nil {
		t.Fatal(err)
	}
	img, err = png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ink.InputFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if d := math.Abs(float64(in[i] - ds[0].Input[i])); d > 1.0/255 {
			t.Fatalf("input pixel %d = %v after round trip, want %v", i, in[i], ds[0].Input[i])
		}
	}
}
