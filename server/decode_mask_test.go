package server

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"slices"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/protocol"
)

// TestDecodeInput_SameMaskAsTheImagePath: the row-by-row PNG path builds exactly the mask ink.WorkMaskFromImage
// builds from image/png's image, for every colour type the fast path takes, small and large canvases.
func TestDecodeInput_SameMaskAsTheImagePath(t *testing.T) {
	s := &Server{cfg: Config{Limits: protocol.DefaultLimits()}, mem: newMemBudget(256<<20, 0)}
	for _, size := range []image.Point{{76, 64}, {280, 280}, {641, 201}} {
		canvas := func(set func(x, y int, ink bool)) {
			for y := range size.Y {
				for x := range size.X {
					dx, dy := x-size.X/2, y-size.Y/2
					r := dx*dx + dy*dy
					// The top fifth is blank: rows the encoder filters Up to zeros (the decoder's repeated rows).
					set(x, y, y >= size.Y/5 && (r > size.Y*size.Y/16 && r < size.Y*size.Y/9 || (x+y)%97 == 0))
				}
			}
		}
		gray := image.NewGray(image.Rect(0, 0, size.X, size.Y))
		rgb := image.NewRGBA(gray.Bounds()) // opaque: encoded as 8-bit RGB
		nrgba := image.NewNRGBA(gray.Bounds())
		ga := image.NewNRGBA(gray.Bounds()) // grey values, some translucent: encoded as RGBA
		canvas(func(x, y int, in bool) {
			v := uint8(235)
			if in {
				v = 20
			}
			gray.SetGray(x, y, color.Gray{v})
			rgb.SetRGBA(x, y, color.RGBA{v, v / 2, 255 - v, 255})
			a := uint8(0)
			if in {
				a = 200
			}
			nrgba.SetNRGBA(x, y, color.NRGBA{10, 20, 200, a})
			ga.SetNRGBA(x, y, color.NRGBA{v, v, v, 255 - a/2})
		})
		for name, img := range map[string]image.Image{"gray": gray, "rgb": rgb, "nrgba": nrgba, "gray-alpha": ga} {
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			in, release, aerr := s.decodeInput(context.Background(), buf.Bytes())
			if aerr != nil {
				t.Fatalf("%s %v: %v", name, size, aerr)
			}
			if in.Mask == nil {
				t.Fatalf("%s %v: took the image path, want the row path", name, size)
			}
			back, err := png.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			want, err := ink.WorkMaskFromImage(back, ink.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := in.Mask
			if got.W != want.W || got.H != want.H || got.Factor != want.Factor || !slices.Equal(got.Pix, want.Pix) {
				t.Errorf("%s %v: row-path mask %dx%d/%d differs from the image path's %dx%d/%d", name, size,
					got.W, got.H, got.Factor, want.W, want.H, want.Factor)
			}
			if !slices.Equal(got.FullResolution().Pix, want.FullResolution().Pix) {
				t.Errorf("%s %v: full-resolution masks differ", name, size)
			}
			release() // the shrinker goes back to the pool: the next canvas reuses its buffers
		}
	}
}
