package ink

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"digitpad/shared/internal/floats"
)

// capsuleBox is the bounding-box rasteriser the scanline one replaced: every pixel of the segment's box is
// measured. It stays here as the reference the fast one must reproduce.
func capsuleBox[T uint8 | float32](c *raster[T], ax, ay, bx, by, r float64) {
	w, h := c.w, c.h
	peak := 1.0
	if r < 0.5 {
		peak = 2 * r
		r = 0.5
	}
	x0 := max(0, int(math.Floor(min(ax, bx)-r-1)))
	x1 := min(w-1, int(math.Ceil(max(ax, bx)+r+1)))
	y0 := max(0, int(math.Floor(min(ay, by)-r-1)))
	y1 := min(h-1, int(math.Ceil(max(ay, by)+r+1)))
	if x0 > x1 || y0 > y1 {
		return
	}
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	outer2 := (r + 0.5) * (r + 0.5)
	inner2 := 0.0
	if r > 0.5 {
		inner2 = (r - 0.5) * (r - 0.5)
	}
	for y := y0; y <= y1; y++ {
		py := float64(y) + 0.5
		for x := x0; x <= x1; x++ {
			px := float64(x) + 0.5
			t := 0.0
			if l2 > 0 {
				t = ((px-ax)*dx + (py-ay)*dy) / l2
				t = floats.Min(1, floats.Max(0, t))
			}
			ex, ey := px-(ax+t*dx), py-(ay+t*dy)
			d2 := ex*ex + ey*ey
			if d2 >= outer2 {
				continue
			}
			cov := 1.0
			if d2 > inner2 {
				cov = r + 0.5 - math.Sqrt(d2)
			}
			v := T(floats.Min(1, cov)*peak*c.full + 0.5)
			if c.full == 1 {
				v = T(floats.Min(1, cov) * peak)
			}
			if i := y*w + x; v > c.pix[i] {
				c.pix[i] = v
			}
		}
	}
}

// The scanline rasteriser draws exactly what the bounding-box one drew: random segments of every direction
// (axis-aligned, diagonal, degenerate, leaving the canvas) and pen radii from sub-pixel to wide, on both
// coverage types.
func TestCapsule_MatchesBoundingBoxRasteriser(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 1))
	const w, h = 97, 61
	coord := func(n int) float64 {
		switch rng.IntN(6) {
		case 0:
			return float64(rng.IntN(n)) // on pixel corners
		case 1:
			return float64(rng.IntN(n)) + 0.5 // on pixel centres
		default:
			return rng.Float64()*float64(n+40) - 20 // anywhere, sometimes off the canvas
		}
	}
	diffs := 0
	for i := range 20000 {
		ax, ay := coord(w), coord(h)
		bx, by := coord(w), coord(h)
		switch i % 5 {
		case 1:
			by = ay // horizontal
		case 2:
			bx = ax // vertical
		case 3:
			bx, by = ax, ay // a dot
		}
		r := []float64{0.2, 0.5, 0.7, 1, 1.5, 2.5, 4, 7.3, 12}[rng.IntN(9)]
		a := raster[uint8]{w: w, h: h, pix: make([]uint8, w*h), full: 255}
		b := raster[uint8]{w: w, h: h, pix: make([]uint8, w*h), full: 255}
		capsule(&a, ax, ay, bx, by, r)
		capsuleBox(&b, ax, ay, bx, by, r)
		for p := range a.pix {
			if a.pix[p] != b.pix[p] {
				diffs++
				if diffs < 5 {
					t.Errorf("segment (%g,%g)-(%g,%g) r=%g: pixel (%d,%d) = %d, bounding-box rasteriser %d",
						ax, ay, bx, by, r, p%w, p/w, a.pix[p], b.pix[p])
				}
			}
		}
		f := raster[float32]{w: w, h: h, pix: make([]float32, w*h), full: 1}
		g := raster[float32]{w: w, h: h, pix: make([]float32, w*h), full: 1}
		capsule(&f, ax, ay, bx, by, r)
		capsuleBox(&g, ax, ay, bx, by, r)
		for p := range f.pix {
			if f.pix[p] != g.pix[p] {
				diffs++
				if diffs < 5 {
					t.Errorf("float segment (%g,%g)-(%g,%g) r=%g: pixel (%d,%d) = %g, want %g",
						ax, ay, bx, by, r, p%w, p/w, f.pix[p], g.pix[p])
				}
			}
		}
	}
	if diffs > 0 {
		t.Fatalf("%d pixels differ from the bounding-box rasteriser", diffs)
	}
}

// 16-bit images take a fast path in planes that must give what the generic At path gives, for premultiplied
// and straight alpha, opaque and translucent.
func TestPlanes_16BitMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	const w, h = 23, 17
	for _, translucent := range []bool{false, true} {
		a := image.NewRGBA64(image.Rect(3, 2, 3+w, 2+h))
		n := image.NewNRGBA64(a.Rect)
		for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
			for x := a.Rect.Min.X; x < a.Rect.Max.X; x++ {
				al := uint16(0xffff)
				if translucent && (x+y)%3 == 0 {
					al = uint16(rng.IntN(0x10000))
				}
				c := color.NRGBA64{uint16(rng.IntN(0x10000)), uint16(rng.IntN(0x10000)), uint16(rng.IntN(0x10000)), al}
				n.SetNRGBA64(x, y, c)
				a.Set(x, y, c)
			}
		}
		for _, img := range []image.Image{a, n} {
			fast := make([]uint8, w*h)
			slow := make([]uint8, w*h)
			fa := planes(img, fast)
			sa := planes(onlyAt{img}, slow)
			if string(fast) != string(slow) || string(fa) != string(sa) || (fa == nil) != (sa == nil) {
				t.Errorf("%T translucent=%v: fast planes differ from the generic ones", img, translucent)
			}
		}
	}
}

// onlyAt hides an image's concrete type so planes takes its generic path.
type onlyAt struct{ image.Image }
