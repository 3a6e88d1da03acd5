package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"digitpad/shared/ink"
)

// CompositeParams place real 28×28 digit images (MNIST test digits, loaded by the caller) on a canvas.
type CompositeParams struct {
	// Seed drives the per-digit jitter.
	Seed uint64
	// X, Y is the top-left corner of the first digit's ink.
	X, Y float64
	// Height is the height of each digit's ink in canvas pixels; zero means 100.
	Height float64
	// Gap between the ink of neighbouring digits as a fraction of Height; negative values make them overlap.
	Gap float64
	// Thickness thins (negative, down to -1) or thickens (positive, up to 1) the strokes.
	Thickness float64
	// Jitter varies each digit's size and baseline: 0 none, 1 strong.
	Jitter float64
	// Center ignores X, Y and centres the code on the canvas.
	Center bool
}

// Composite draws digit images (row-major 28×28, 0..1, ink = 1) left to right on a w×h canvas with the pen's
// colours (Pen.Width is ignored: the images bring their own strokes). It returns the canvas and each digit's
// ink box (coverage above 0.2). Upscaled MNIST is blurry, so coverage is re-levelled into crisp anti-aliased strokes; the level
// sets the thickness.
func Composite(digits [][784]float32, w, h int, p CompositeParams, pen Pen) (*image.RGBA, []image.Rectangle, error) {
	if w <= 0 || h <= 0 || int64(w)*int64(h) > ink.DefaultMaxPixels {
		return nil, nil, fmt.Errorf("synth: composite canvas %dx%d", w, h)
	}
	if p.Height == 0 {
		p.Height = 100
	}
	if p.Height < 0 || math.IsNaN(p.Height+p.Gap+p.Thickness+p.Jitter+p.X+p.Y) {
		return nil, nil, fmt.Errorf("synth: invalid composite params %+v", p)
	}
	type placed struct {
		d             [784]float32
		bx0, by0      int
		x, top, scale float64
		dw, dh        float64
	}
	var ps []placed
	x := 0.0
	for i := range digits {
		rng := rand.New(rand.NewPCG(p.Seed, uint64(i)))
		// A slight blur first: bilinear upscaling of raw MNIST pixels re-levelled into strokes would show
		// the pixel staircase.
		d := smooth(&digits[i])
		bx0, by0, bx1, by1 := 28, 28, -1, -1
		for y := 0; y < 28; y++ {
			for xx := 0; xx < 28; xx++ {
				if digits[i][y*28+xx] > 0.1 {
					bx0, by0 = min(bx0, xx), min(by0, y)
					bx1, by1 = max(bx1, xx+1), max(by1, y+1)
				}
			}
		}
		if bx1 < 0 {
			return nil, nil, fmt.Errorf("synth: digit image %d is blank", i)
		}
		H := p.Height * (1 + 0.08*p.Jitter*rng.NormFloat64())
		scale := H / float64(by1-by0)
		top := 0.06 * p.Jitter * rng.NormFloat64() * p.Height
		dw := float64(bx1-bx0) * scale
		ps = append(ps, placed{d: d, bx0: bx0, by0: by0, x: x, top: top, scale: scale, dw: dw, dh: H})
		x += dw + p.Gap*p.Height
	}
	ox, oy := p.X, p.Y
	if p.Center && len(ps) > 0 {
		last := ps[len(ps)-1]
		ox = (float64(w) - (last.x + last.dw)) / 2
		oy = (float64(h) - p.Height) / 2
	}
	cov := make([]float32, w*h)
	boxes := make([]image.Rectangle, 0, len(digits))
	level := 0.5 - 0.3*math.Max(-1, math.Min(1, p.Thickness))
	for i := range ps {
		q := &ps[i]
		x, top := ox+q.x, oy+q.top
		// Field values change by about one per source pixel, i.e. per scale canvas pixels: a ramp of
		// 1/scale in value is one canvas pixel of anti-aliasing.
		ramp := math.Max(0.02, math.Min(0.3, 0.5/q.scale))
		box := image.Rect(int(math.Floor(x-q.scale)), int(math.Floor(top-q.scale)), int(math.Ceil(x+q.dw+q.scale)), int(math.Ceil(top+q.dh+q.scale)))
		box = box.Intersect(image.Rect(0, 0, w, h))
		inkBox := image.Rectangle{}
		for cy := box.Min.Y; cy < box.Max.Y; cy++ {
			sy := (float64(cy)+0.5-top)/q.scale + float64(q.by0) - 0.5
			for cx := box.Min.X; cx < box.Max.X; cx++ {
				sx := (float64(cx)+0.5-x)/q.scale + float64(q.bx0) - 0.5
				v := bilinear(&q.d, sx, sy)
				c := float32(math.Max(0, math.Min(1, (v-level)/(2*ramp)+0.5)))
				if c > 0.2 {
					inkBox = inkBox.Union(image.Rect(cx, cy, cx+1, cy+1))
				}
				if i := cy*w + cx; c > cov[i] {
					cov[i] = c
				}
			}
		}
		boxes = append(boxes, inkBox)
	}
	m := &ink.Mask{W: w, H: h, Pix: make([]uint8, w*h)}
	for i, c := range cov {
		m.Pix[i] = uint8(c*255 + 0.5)
	}
	return Colorize(m, pen), boxes, nil
}

// smooth blurs a 28×28 image with a 3×3 binomial kernel.
func smooth(d *[784]float32) [784]float32 {
	var out [784]float32
	k := [3]float32{0.25, 0.5, 0.25}
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			var acc float32
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < 28 && yy < 28 {
						acc += k[dx+1] * k[dy+1] * d[yy*28+xx]
					}
				}
			}
			out[y*28+x] = acc
		}
	}
	return out
}

func bilinear(d *[784]float32, x, y float64) float64 {
	at := func(xi, yi int) float64 {
		if xi < 0 || yi < 0 || xi >= 28 || yi >= 28 {
			return 0
		}
		return float64(d[yi*28+xi])
	}
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	fx, fy := x-float64(x0), y-float64(y0)
	return (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
}
