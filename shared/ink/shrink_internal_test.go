package ink

import (
	"image"
	"math/rand/v2"
	"slices"
	"testing"
)

// The Shrinker's planes are exactly the box averages of the canvas's luma and alpha, computed here the slow
// way, for every layout, reduction factor and odd sizes; canvases mix white runs (the RGB fast path) and noise,
// spread over the canvas or (sparse) within a box, as a digit is: white bands and margins the reduction skips.
func TestShrinker_MatchesReferenceBoxAverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	reused := new(Shrinker) // every canvas also goes through one shrinker, Reset each time
	for _, size := range [][3]int{{1, 1, 0}, {7, 5, 0}, {33, 161, 0}, {280, 280, 0}, {101, 330, 0}, {13, 700, 0},
		{280, 280, 1}, {101, 330, 1}, {41, 333, 1}, {640, 200, 1}} {
		for _, l := range []Layout{Gray8, GrayAlpha8, RGB8, RGBA8} {
			w, h, sparse := size[0], size[1], size[2] == 1
			bpp := l.bytesPerPixel()
			rows := make([][]byte, h)
			luma := make([]uint8, w*h)
			alpha := make([]uint8, w*h)
			for y := range rows {
				rows[y] = make([]byte, bpp*w)
				for x := range w {
					px := rows[y][bpp*x : bpp*(x+1)]
					for i := range px {
						px[i] = 255
					}
					ink := rng.IntN(4) == 0 || y%17 == 3 && x > w/2
					if sparse {
						ink = ink && x >= w/3 && x < w/3+w/4+1 && y >= h/4 && y < h/2
					}
					if ink {
						for i := range px {
							px[i] = uint8(rng.IntN(256))
						}
					}
					if (l == GrayAlpha8 || l == RGBA8) && y < h/2 {
						px[bpp-1] = 255 // opaque top half: the alpha plane starts late
					}
					switch l {
					case Gray8:
						luma[y*w+x], alpha[y*w+x] = px[0], 255
					case GrayAlpha8:
						luma[y*w+x], alpha[y*w+x] = px[0], px[1]
					default:
						luma[y*w+x] = luma8(uint32(px[0]), uint32(px[1]), uint32(px[2]))
						alpha[y*w+x] = 255
						if l == RGBA8 {
							alpha[y*w+x] = px[3]
						}
					}
				}
			}
			s := shrunk(t, w, h, rows, l)
			if err := reused.Reset(w, h, Options{}); err != nil {
				t.Fatal(err)
			}
			for y, r := range rows {
				if err := reused.Row(y, r, l); err != nil {
					t.Fatal(err)
				}
			}
			m1, err1 := s.Mask()
			m2, err2 := reused.Mask()
			if err1 != nil || err2 != nil || !slices.Equal(m1.Pix, m2.Pix) || !slices.Equal(m1.FullResolution().Pix, m2.FullResolution().Pix) {
				t.Fatalf("%dx%d layout %d: a reused shrinker's masks differ from a new one's (%v, %v)", w, h, l, err1, err2)
			}
			s = shrunk(t, w, h, rows, l) // Mask and FullResolution work in place; start again for the planes
			if !slices.Equal(s.fullLuma, luma) {
				t.Fatalf("%dx%d layout %d: full-resolution luma differs", w, h, l)
			}
			opaque := !slices.ContainsFunc(alpha, func(a uint8) bool { return a != 255 })
			if opaque != (s.fullAlpha == nil) || !opaque && !slices.Equal(s.fullAlpha, alpha) {
				t.Fatalf("%dx%d layout %d: full-resolution alpha differs", w, h, l)
			}
			checkMasksOfWholePlanes(t, w, h, rows, l)
			k := s.k
			if k == 1 {
				continue
			}
			for oy := range s.sh {
				for ox := range s.sw {
					var sl, sa, n uint32
					for y := oy * k; y < min(h, (oy+1)*k); y++ {
						for x := ox * k; x < min(w, (ox+1)*k); x++ {
							sl += uint32(luma[y*w+x])
							sa += uint32(alpha[y*w+x])
							n++
						}
					}
					i := oy*s.sw + ox
					if got, want := s.luma[i], uint8((sl+n/2)/n); got != want {
						t.Fatalf("%dx%d layout %d k %d: luma (%d,%d) = %d, want %d", w, h, l, k, ox, oy, got, want)
					}
					if !s.alphaBands { // an opaque canvas: no alpha plane is kept
						if !opaque {
							t.Fatalf("%dx%d layout %d: translucent canvas without an alpha plane", w, h, l)
						}
						continue
					}
					if got, want := s.alpha[i], uint8((sa+n/2)/n); got != want {
						t.Fatalf("%dx%d layout %d k %d: alpha (%d,%d) = %d, want %d", w, h, l, k, ox, oy, got, want)
					}
				}
			}
		}
	}
}

// rgbLuma's blocks of eight pixels (white ones written at once) give what the per-pixel formula gives, for any
// width and any mix of white and other pixels.
func TestRGBLuma_MatchesPerPixel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for w := range 3000 {
		w %= 150
		rgb := make([]uint8, 3*w)
		// Ink between white margins of any width (found word by word), white pixels within it.
		a := rng.IntN(w + 1)
		b := a + rng.IntN(w-a+1)
		for i := range rgb {
			if i < 3*a || i >= 3*b || rng.IntN(3) > 0 {
				rgb[i] = 255
			} else {
				rgb[i] = uint8(rng.IntN(256))
			}
		}
		got := make([]uint8, w)
		rgbLuma(got, rgb)
		for x := range w {
			want := uint8((77*uint32(rgb[3*x]) + 150*uint32(rgb[3*x+1]) + 29*uint32(rgb[3*x+2])) >> 8)
			if got[x] != want {
				t.Fatalf("width %d pixel %d: %d, want %d", w, x, got[x], want)
			}
		}
	}
}

// shrunk is a new shrinker given rows (layout l).
func shrunk(t *testing.T, w, h int, rows [][]byte, l Layout) *Shrinker {
	t.Helper()
	s, err := NewShrinker(w, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for y, r := range rows {
		if err := s.Row(y, r, l); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// checkMasksOfWholePlanes: the masks of a shrinker given rows (working and full resolution), which count and
// map only the pixels inside the ink rectangle, are those of its whole planes.
func checkMasksOfWholePlanes(t *testing.T, w, h int, rows [][]byte, l Layout) {
	t.Helper()
	s := shrunk(t, w, h, rows, l)
	whole := func(luma, alpha []uint8, w, h int) []uint8 {
		return maskFromPlanes(slices.Clone(luma), slices.Clone(alpha), w, h, image.Rect(0, 0, w, h)).Pix
	}
	var alpha []uint8
	if s.alphaAnd != 0xff {
		alpha = s.alpha
	}
	var wantWork []uint8
	if s.k > 1 {
		wantWork = whole(s.luma, alpha, s.sw, s.sh)
	}
	wantFull := whole(s.fullLuma, s.fullAlpha, s.w, s.h)
	m, err := s.Mask()
	if err != nil {
		t.Fatal(err)
	}
	if s.k > 1 && !slices.Equal(m.Pix, wantWork) {
		t.Fatalf("%dx%d: working mask (ink %v) differs from the whole plane's", s.w, s.h, s.ink)
	}
	if !slices.Equal(m.FullResolution().Pix, wantFull) {
		t.Fatalf("%dx%d: full-resolution mask (ink %v) differs from the whole plane's", s.w, s.h, s.ink)
	}
}

// The contrast LUT and the mask of a plane that is white outside a rectangle, computed inside it, are those of
// the whole plane: any rectangle (empty, a line, the plane), dark or light ink, light or dark background inside.
func TestMaskFromPlanes_InkRectangleAsWholePlane(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 3000 {
		w, h := 1+rng.IntN(60), 1+rng.IntN(60)
		x0, y0 := rng.IntN(w+1), rng.IntN(h+1)
		r := image.Rect(x0, y0, x0+rng.IntN(w-x0+1), y0+rng.IntN(h-y0+1))
		luma := make([]uint8, w*h)
		bg := uint8(255)
		if i%5 == 0 {
			bg = uint8(rng.IntN(256)) // inside the rectangle: any paper
		}
		for y := range h {
			for x := range w {
				v := uint8(255)
				if image.Pt(x, y).In(r) {
					v = bg
					if rng.IntN(3) == 0 {
						v = uint8(rng.IntN(256))
					}
				}
				luma[y*w+x] = v
			}
		}
		want := maskFromPlanes(slices.Clone(luma), nil, w, h, image.Rect(0, 0, w, h))
		got := maskFromPlanes(slices.Clone(luma), nil, w, h, r)
		if !slices.Equal(got.Pix, want.Pix) {
			t.Fatalf("%dx%d ink %v: mask differs from the whole plane's", w, h, r)
		}
	}
}

// applyLUT's blocks of one value (looked up once) give what the per-pixel lookup gives, for any length and any
// mix of runs and other values.
func TestApplyLUT_MatchesPerPixel(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	var lut [256]uint8
	for i := range lut {
		lut[i] = uint8(rng.IntN(256))
	}
	for n := range 300 {
		src := make([]uint8, n)
		for i := range src {
			switch {
			case rng.IntN(3) == 0:
				src[i] = uint8(rng.IntN(256))
			case i > 0 && rng.IntN(10) > 0:
				src[i] = src[i-1] // runs of one value
			}
		}
		got := make([]uint8, n)
		applyLUT(got, src, &lut)
		for i, v := range src {
			if got[i] != lut[v] {
				t.Fatalf("length %d pixel %d: %d, want %d", n, i, got[i], lut[v])
			}
		}
	}
}
