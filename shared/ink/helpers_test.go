package ink_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"strings"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

// mustWrite writes a code with the stroke font, failing the test on error.
func mustWrite(tb testing.TB, text string, p synth.Params) *synth.Code {
	tb.Helper()
	c, err := synth.Write(text, p)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// codeParams centres a code of n digits of height h on a w×hh canvas.
func codeParams(seed uint64, n int, height float64, w, hh int) synth.Params {
	p := synth.Defaults()
	p.Seed = seed
	p.Height = height
	return synth.Centered(p, n, w, hh)
}

func mustRender(tb testing.TB, strokes []ink.Stroke, w, h int, pen synth.Pen) *image.RGBA {
	tb.Helper()
	img, err := synth.Render(strokes, w, h, pen)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func mustSegmentImage(tb testing.TB, img image.Image, opt ink.Options) []ink.Digit {
	tb.Helper()
	m, err := ink.MaskFromImageOpt(img, opt)
	if err != nil {
		tb.Fatal(err)
	}
	ds, err := ink.Segment(m, opt)
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

func mustSegmentStrokes(tb testing.TB, strokes []ink.Stroke, w, h int, opt ink.Options) []ink.Digit {
	tb.Helper()
	m, err := ink.MaskFromStrokesOpt(strokes, w, h, opt)
	if err != nil {
		tb.Fatal(err)
	}
	ds, err := ink.Segment(m, opt)
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

func jpegRoundTrip(tb testing.TB, img image.Image, q int) image.Image {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	out, err := jpeg.Decode(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// inputStats describes a 28×28 input the way MNIST digits are described.
type inputStats struct {
	box            image.Rectangle // pixels >= 0.1
	comX, comY     float64
	width          float64
	mass, maxValue float64
}

func statsOf(in *[784]float32) inputStats {
	s := inputStats{box: image.Rectangle{Min: image.Point{28, 28}}}
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			v := float64(in[y*28+x])
			s.mass += v
			s.comX += v * float64(x)
			s.comY += v * float64(y)
			s.maxValue = math.Max(s.maxValue, v)
			if v >= 0.1 {
				s.box = s.box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if s.mass > 0 {
		s.comX /= s.mass
		s.comY /= s.mass
	}
	s.width = ink.StrokeWidth(in)
	return s
}

// checkMNISTLike asserts the shape of an MNIST input: the larger side 16..23 pixels, centre of mass within a
// pixel of (14,14), full-strength ink and a stroke width within MNIST's 5%..95% range.
func checkMNISTLike(t *testing.T, in *[784]float32) inputStats {
	t.Helper()
	s := statsOf(in)
	if side := max(s.box.Dx(), s.box.Dy()); side < 16 || side > 23 {
		t.Errorf("larger side of ink box = %d (box %v), want 16..23\n%s", side, s.box, ascii(in))
	}
	if math.Abs(s.comX-14) > 1 || math.Abs(s.comY-14) > 1 {
		t.Errorf("centre of mass = (%.2f,%.2f), want within 1 of (14,14)", s.comX, s.comY)
	}
	if s.maxValue < 0.99 {
		t.Errorf("max value = %.2f, want full ink 1", s.maxValue)
	}
	if s.width < 1.7 || s.width > 3.9 {
		t.Errorf("stroke width = %.2f, want MNIST's 1.7..3.9\n%s", s.width, ascii(in))
	}
	return s
}

func ascii(in *[784]float32) string {
	var b strings.Builder
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			b.WriteByte(" .:-=+*#%@"[min(9, int(in[y*28+x]*9.99))])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// shiftedCorrelation is the best correlation of a with b moved by at most one pixel: centring by whole pixels
// can round the same digit one pixel apart.
func shiftedCorrelation(a, b *[784]float32) float64 {
	best := -1.0
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			var s [784]float32
			for y := 0; y < 28; y++ {
				for x := 0; x < 28; x++ {
					if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < 28 && yy < 28 {
						s[y*28+x] = b[yy*28+xx]
					}
				}
			}
			best = math.Max(best, correlation(a, &s))
		}
	}
	return best
}

// correlation is the Pearson correlation of two inputs.
func correlation(a, b *[784]float32) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += float64(b[i])
	}
	ma /= 784
	mb /= 784
	var sab, saa, sbb float64
	for i := range a {
		da, db := float64(a[i])-ma, float64(b[i])-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb+1e-12)
}

// covers reports whether the segmented box contains most of the true pen-path box.
func covers(got, want image.Rectangle) bool {
	want = want.Inset(-1)
	in := got.Intersect(want)
	return float64(in.Dx()*in.Dy()) >= 0.8*float64(want.Dx()*want.Dy())
}

var (
	white = color.White
	black = color.Black
)

func sideBySide(a, b *[784]float32) string {
	la, lb := strings.Split(ascii(a), "\n"), strings.Split(ascii(b), "\n")
	var sb strings.Builder
	for i := 0; i < 28; i++ {
		sb.WriteString("|" + la[i] + "|  |" + lb[i] + "|\n")
	}
	return sb.String()
}
