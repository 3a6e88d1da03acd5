package ink_test

import (
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

func TestWorkFactor(t *testing.T) {
	for _, tt := range []struct{ h, want int }{{1, 1}, {160, 1}, {161, 2}, {280, 2}, {320, 2}, {321, 3}, {2048, 13}} {
		if got := ink.WorkFactor(tt.h); got != tt.want {
			t.Errorf("WorkFactor(%d) = %d, want %d", tt.h, got, tt.want)
		}
	}
}

// A working mask is the box average of the canvas: a 2×2 block of which one pixel is black on white averages
// to a quarter of the contrast, and the ink core still maps to full coverage.
func TestWorkMaskFromImage_BoxAverage(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 201, 200)) // odd width: the last column averages one pixel
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 40; y < 160; y++ { // a 4-px bar: full ink at half resolution
		for x := 96; x < 100; x++ {
			img.Pix[y*img.Stride+x] = 0
		}
	}
	img.Pix[10*img.Stride+10] = 0 // one pixel of a 2×2 block
	m, err := ink.WorkMaskFromImage(img, ink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.W != 101 || m.H != 100 || m.Factor != 2 || m.CanvasW != 201 || m.CanvasH != 200 {
		t.Fatalf("mask %dx%d factor %d of %dx%d, want 101x100 factor 2 of 201x200", m.W, m.H, m.Factor, m.CanvasW, m.CanvasH)
	}
	if got := m.Pix[50*m.W+48]; got != 255 {
		t.Errorf("bar coverage %d, want 255", got)
	}
	if got := m.Pix[5*m.W+5]; got == 0 || got >= 128 {
		t.Errorf("quarter-covered block coverage %d, want between 0 and 128", got)
	}
	full := m.FullResolution()
	want, _ := ink.MaskFromImage(img)
	if full.W != 201 || !slices.Equal(full.Pix, want.Pix) {
		t.Error("FullResolution differs from MaskFromImage")
	}
	if got := m.CanvasBox(image.Rect(48, 20, 50, 80)); got != image.Rect(96, 40, 100, 160) {
		t.Errorf("CanvasBox = %v, want (96,40)-(100,160)", got)
	}
	if got := m.CanvasBox(image.Rect(100, 0, 101, 100)); got != image.Rect(200, 0, 201, 200) {
		t.Errorf("CanvasBox at the edge = %v, want clamped to the canvas", got)
	}
}

// Short canvases are not reduced: the working mask is MaskFromImage's.
func TestWorkMaskFromImage_ShortCanvasUnchanged(t *testing.T) {
	img := renderCode(t, "42", 120, 64, color.White)
	got, err := ink.WorkMaskFromImage(img, ink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ink.MaskFromImage(img)
	if got.Factor > 1 || got.W != want.W || !slices.Equal(got.Pix, want.Pix) {
		t.Error("working mask of a 64-px canvas differs from MaskFromImage")
	}
}

// Every image type reduces through the same averaging: RGBA, NRGBA, grey and the generic path agree on a
// canvas whose pixels are the same colour in each.
func TestWorkMaskFromImage_ImageTypesAgree(t *testing.T) {
	rgba := renderCode(t, "905", 420, 240, color.White)
	gray := image.NewGray(rgba.Bounds())
	nrgba := image.NewNRGBA(rgba.Bounds())
	pal := image.NewPaletted(rgba.Bounds(), nil)
	for y := range 240 {
		for x := range 420 {
			c := rgba.RGBAAt(x, y)
			gray.SetGray(x, y, color.Gray{c.R}) // synth renders grey ink: R = G = B
			nrgba.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, 255})
		}
	}
	pal.Palette = color.Palette{}
	for v := range 256 {
		pal.Palette = append(pal.Palette, color.Gray{uint8(v)})
	}
	for i, v := range gray.Pix {
		pal.Pix[i] = v
	}
	want, err := ink.WorkMaskFromImage(gray, ink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]image.Image{"rgba": rgba, "nrgba": nrgba, "paletted": pal} {
		got, err := ink.WorkMaskFromImage(img, ink.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Pix, want.Pix) {
			t.Errorf("%s: working mask differs from the grey image's", name)
		}
	}
	if _, err := ink.WorkMaskFromImage(image.NewGray(image.Rect(0, 0, 5000, 5000)), ink.Options{MaxPixels: 1 << 20}); err == nil {
		t.Error("no error for a canvas above MaxPixels")
	}
}

func TestShrinker_RejectsRowsOutOfOrder(t *testing.T) {
	s, err := ink.NewShrinker(4, 400, ink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Row(1, make([]byte, 4), ink.Gray8); err == nil {
		t.Error("row 1 accepted before row 0")
	}
	if err := s.Row(0, make([]byte, 3), ink.Gray8); err == nil {
		t.Error("short row accepted")
	}
	if _, err := s.Mask(); err == nil {
		t.Error("mask of an incomplete canvas")
	}
}

// RepeatRow is Row with the previous row's pixels again, in every layout, opaque or translucent: the same
// working mask and the same full-resolution mask.
func TestShrinker_RepeatRowIsTheRowAgain(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, l := range []struct {
		layout ink.Layout
		bpp    int
	}{{ink.Gray8, 1}, {ink.GrayAlpha8, 2}, {ink.RGB8, 3}, {ink.RGBA8, 4}} {
		for _, size := range []image.Point{{50, 40}, {61, 333}} {
			w, h := size.X, size.Y
			rows, again := ink.NewShrinker(w, h, ink.Options{})
			repeats, err := ink.NewShrinker(w, h, ink.Options{})
			if again != nil || err != nil {
				t.Fatal(again, err)
			}
			row := make([]byte, w*l.bpp)
			for y := range h {
				if y == 0 || rng.IntN(3) > 0 {
					// Mostly white; with alpha, mostly transparent (the mask then reads the alpha plane).
					for i := range row {
						row[i] = 255
						if l.bpp%2 == 0 && i%l.bpp == l.bpp-1 {
							row[i] = 0
						}
						if rng.IntN(4) == 0 {
							row[i] = byte(rng.IntN(256))
						}
					}
					if err := repeats.Row(y, row, l.layout); err != nil {
						t.Fatal(err)
					}
				} else if err := repeats.RepeatRow(y); err != nil {
					t.Fatal(err)
				}
				if err := rows.Row(y, row, l.layout); err != nil {
					t.Fatal(err)
				}
			}
			want, werr := rows.Mask()
			got, gerr := repeats.Mask()
			if werr != nil || gerr != nil {
				t.Fatal(werr, gerr)
			}
			if !slices.Equal(got.Pix, want.Pix) || !slices.Equal(got.FullResolution().Pix, want.FullResolution().Pix) {
				t.Errorf("layout %d %v: masks with repeated rows differ", l.layout, size)
			}
		}
	}
	s, _ := ink.NewShrinker(4, 4, ink.Options{})
	if s.RepeatRow(0) == nil {
		t.Error("row 0 repeated")
	}
}

func TestTouching(t *testing.T) {
	d := func(x0, x1 int) image.Rectangle { return image.Rect(x0, 0, x1, 10) }
	if ink.Touching([]image.Rectangle{d(0, 5), d(6, 9)}) {
		t.Error("separate boxes reported touching")
	}
	if !ink.Touching([]image.Rectangle{d(0, 5), d(5, 9)}) || !ink.Touching([]image.Rectangle{d(0, 6), d(5, 9)}) {
		t.Error("abutting or overlapping boxes not reported touching")
	}
}

func renderCode(t *testing.T, code string, w, h int, bg color.Color) *image.RGBA {
	t.Helper()
	p := synth.Defaults()
	p.Height = 0.6 * float64(h)
	p = synth.Centered(p, len(code), w, h)
	c, err := synth.Write(code, p)
	if err != nil {
		t.Fatal(err)
	}
	img, err := synth.Render(c.Strokes, w, h, synth.Pen{Width: 5, Background: bg})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// BenchmarkShrinker_RGB280 feeds a 280×280 RGB canvas row by row, as the server's PNG path does.
func BenchmarkShrinker_RGB280(b *testing.B) {
	img := renderCode(&testing.T{}, "8", 280, 280, color.White)
	rows := make([][]byte, 280)
	for y := range rows {
		rows[y] = make([]byte, 3*280)
		for x := range 280 {
			copy(rows[y][3*x:], img.Pix[y*img.Stride+4*x:y*img.Stride+4*x+3])
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := ink.NewShrinker(280, 280, ink.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for y, r := range rows {
			if err := s.Row(y, r, ink.RGB8); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Mask(); err != nil {
			b.Fatal(err)
		}
	}
}
