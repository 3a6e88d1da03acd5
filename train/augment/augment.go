// Package augment distorts 28×28 MNIST digits the way a clerk's finger or stylus does — rotation, scale, shear,
// shift, stroke thickness and elastic "unsteady hand" distortion (Simard et al. 2003) — and re-normalises the
// result like MNIST (fit a 20×20 box keeping aspect, centre of mass at 14,14) so training inputs match what the
// pad's preprocessing produces. Everything is driven by a caller-supplied *rand.Rand, so results are
// reproducible given a seed.
package augment

import (
	"math"
	"math/rand/v2"
)

// Side is the image side in pixels (28×28 inputs).
const Side = 28

// canvas is the working side: large enough that a 28×28 digit rotated, scaled up and sheared never clips.
const canvas = 48

// Params bounds each random distortion. The zero value applies no distortion.
type Params struct {
	RotateDeg    float64 `json:"rotate_deg"`    // rotation drawn uniformly in ±RotateDeg
	ScaleMin     float64 `json:"scale_min"`     // isotropic scale range before re-normalisation
	ScaleMax     float64 `json:"scale_max"`     //
	Aspect       float64 `json:"aspect"`        // x/y stretch drawn in 1±Aspect (survives the 20×20 fit)
	Shear        float64 `json:"shear"`         // horizontal shear factor in ±Shear
	ElasticAlpha float64 `json:"elastic_alpha"` // displacement magnitude (pixels, before smoothing)
	ElasticSigma float64 `json:"elastic_sigma"` // Gaussian smoothing of the displacement field (pixels)
	ElasticProb  float64 `json:"elastic_prob"`  // probability of an elastic distortion
	ThickProb    float64 `json:"thick_prob"`    // probability of a stroke thickness change
	Thicken      float64 `json:"thicken"`       // max blend towards a grey dilation
	Thin         float64 `json:"thin"`          // max blend towards a grey erosion
	BoxJitter    int     `json:"box_jitter"`    // fit box side 20±BoxJitter (segmentation slack)
	ShiftPx      int     `json:"shift_px"`      // final shift of the centre of mass in ±ShiftPx pixels
	ShiftProb    float64 `json:"shift_prob"`    // probability of a final shift
	RawProb      float64 `json:"raw_prob"`      // probability of passing the sample through unchanged
	Renormalise  bool    `json:"renormalise"`   // MNIST-style box fit and centring after distortion
}

// Default is the augmentation the shipped model was trained with.
func Default() Params {
	return Params{
		RotateDeg: 15, ScaleMin: 0.8, ScaleMax: 1.2, Aspect: 0.1, Shear: 0.2,
		ElasticAlpha: 34, ElasticSigma: 4, ElasticProb: 0.3,
		ThickProb: 0.3, Thicken: 0.8, Thin: 0.5,
		BoxJitter: 1, ShiftPx: 2, ShiftProb: 0.2, RawProb: 0.2, Renormalise: true,
	}
}

// Augmenter holds scratch buffers; it is not safe for concurrent use (use one per worker).
type Augmenter struct {
	P                 Params
	work, dx, dy, tmp []float64
	kernel            []float64
	kernelSigma       float64
	out               [Side * Side]float64
}

// New returns an Augmenter for p.
func New(p Params) *Augmenter {
	n := canvas * canvas
	return &Augmenter{P: p, work: make([]float64, n), dx: make([]float64, n), dy: make([]float64, n),
		tmp: make([]float64, n)}
}

// Apply writes a randomly distorted copy of src (28×28, 0..1, ink = 1) into dst (28×28).
func (a *Augmenter) Apply(rng *rand.Rand, src, dst []float32) {
	p := a.P
	if rng.Float64() < p.RawProb {
		copy(dst, src)
		return
	}
	// Inverse affine map from canvas coordinates (centred) to source coordinates (centred).
	theta := (rng.Float64()*2 - 1) * p.RotateDeg * math.Pi / 180
	scale := 1.0
	if p.ScaleMax > p.ScaleMin && p.ScaleMin > 0 {
		scale = p.ScaleMin + rng.Float64()*(p.ScaleMax-p.ScaleMin)
	}
	asp := 1 + (rng.Float64()*2-1)*p.Aspect
	sx, sy := scale*math.Sqrt(asp), scale/math.Sqrt(asp)
	sh := (rng.Float64()*2 - 1) * p.Shear
	// Forward map: x' = R · Sh · S · x. Build it, then invert the 2×2.
	cos, sin := math.Cos(theta), math.Sin(theta)
	// S then shear (x += sh*y) then rotation.
	m00, m01 := sx, sh*sy
	m10, m11 := 0.0, sy
	f00, f01 := cos*m00-sin*m10, cos*m01-sin*m11
	f10, f11 := sin*m00+cos*m10, sin*m01+cos*m11
	det := f00*f11 - f01*f10
	i00, i01, i10, i11 := f11/det, -f01/det, -f10/det, f00/det

	elastic := p.ElasticAlpha > 0 && p.ElasticSigma > 0 && rng.Float64() < p.ElasticProb
	if elastic {
		a.elasticField(rng)
	}
	const cc = canvas / 2.0
	const sc = Side / 2.0
	for y := 0; y < canvas; y++ {
		for x := 0; x < canvas; x++ {
			u, v := float64(x)+0.5-cc, float64(y)+0.5-cc
			if elastic {
				u += a.dx[y*canvas+x]
				v += a.dy[y*canvas+x]
			}
			srcX := i00*u + i01*v + sc - 0.5
			srcY := i10*u + i11*v + sc - 0.5
			a.work[y*canvas+x] = bilinear(src, srcX, srcY)
		}
	}
	if p.ThickProb > 0 && rng.Float64() < p.ThickProb {
		if rng.Float64() < 0.5 {
			a.morph(rng.Float64()*p.Thicken, true)
		} else {
			a.morph(rng.Float64()*p.Thin, false)
		}
	}
	if !p.Renormalise {
		// Crop the centre back to 28×28.
		off := (canvas - Side) / 2
		for y := 0; y < Side; y++ {
			for x := 0; x < Side; x++ {
				dst[y*Side+x] = float32(a.work[(y+off)*canvas+x+off])
			}
		}
		return
	}
	box := 20
	if p.BoxJitter > 0 {
		box += rng.IntN(2*p.BoxJitter+1) - p.BoxJitter
	}
	shx, shy := 0, 0
	if p.ShiftPx > 0 && rng.Float64() < p.ShiftProb {
		shx = rng.IntN(2*p.ShiftPx+1) - p.ShiftPx
		shy = rng.IntN(2*p.ShiftPx+1) - p.ShiftPx
	}
	normalise(a.work, canvas, canvas, box, shx, shy, a.out[:])
	for i, v := range a.out {
		dst[i] = float32(v)
	}
}

func bilinear(src []float32, x, y float64) float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int(x0), int(y0)
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= Side || y >= Side {
			return 0
		}
		return float64(src[y*Side+x])
	}
	return (1-fy)*((1-fx)*at(ix, iy)+fx*at(ix+1, iy)) + fy*((1-fx)*at(ix, iy+1)+fx*at(ix+1, iy+1))
}

// elasticField fills dx, dy with uniform noise in ±1 smoothed by a Gaussian and scaled by alpha (Simard 2003).
func (a *Augmenter) elasticField(rng *rand.Rand) {
	if a.kernelSigma != a.P.ElasticSigma {
		s := a.P.ElasticSigma
		r := int(math.Ceil(3 * s))
		a.kernel = make([]float64, 2*r+1)
		var sum float64
		for i := range a.kernel {
			d := float64(i - r)
			a.kernel[i] = math.Exp(-d * d / (2 * s * s))
			sum += a.kernel[i]
		}
		for i := range a.kernel {
			a.kernel[i] /= sum
		}
		a.kernelSigma = s
	}
	for _, f := range [][]float64{a.dx, a.dy} {
		for i := range f {
			f[i] = rng.Float64()*2 - 1
		}
		a.blur(f)
		for i := range f {
			f[i] *= a.P.ElasticAlpha
		}
	}
}

// blur applies the separable Gaussian kernel with zero padding.
func (a *Augmenter) blur(f []float64) {
	k := a.kernel
	r := len(k) / 2
	for y := 0; y < canvas; y++ {
		for x := 0; x < canvas; x++ {
			var s float64
			for i, w := range k {
				if xx := x + i - r; xx >= 0 && xx < canvas {
					s += w * f[y*canvas+xx]
				}
			}
			a.tmp[y*canvas+x] = s
		}
	}
	for y := 0; y < canvas; y++ {
		for x := 0; x < canvas; x++ {
			var s float64
			for i, w := range k {
				if yy := y + i - r; yy >= 0 && yy < canvas {
					s += w * a.tmp[yy*canvas+x]
				}
			}
			f[y*canvas+x] = s
		}
	}
}

// morph blends the canvas towards its 3×3 cross grey dilation (thicker strokes) or erosion (thinner) by t.
func (a *Augmenter) morph(t float64, dilate bool) {
	copy(a.tmp, a.work)
	for y := 0; y < canvas; y++ {
		for x := 0; x < canvas; x++ {
			v := a.tmp[y*canvas+x]
			m := v
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				xx, yy := x+d[0], y+d[1]
				n := 0.0
				if xx >= 0 && yy >= 0 && xx < canvas && yy < canvas {
					n = a.tmp[yy*canvas+xx]
				}
				if dilate {
					m = max(m, n)
				} else {
					m = min(m, n)
				}
			}
			a.work[y*canvas+x] = v + t*(m-v)
		}
	}
}

// Normalise re-centres a w×h grey image (0..1, ink = 1) the MNIST way into dst (28×28): crop to the ink bounding
// box, scale to fit a 20×20 box keeping aspect (area-averaged), and place it so the centre of mass lands on
// pixel (14,14), as in MNIST. An image without ink yields all zeros.
func Normalise(src []float32, w, h int, dst []float32) {
	f := make([]float64, len(src))
	for i, v := range src {
		f[i] = float64(v)
	}
	out := make([]float64, Side*Side)
	normalise(f, w, h, 20, 0, 0, out)
	for i, v := range out {
		dst[i] = float32(v)
	}
}

// comTarget is where the centre of mass goes, in pixel-edge coordinates: the centre of pixel 14, where MNIST's
// mean centre of mass lies (measured: 14.01, 13.99 in pixel indices over the test set).
const comTarget = 14.5

// inkThreshold ignores faint interpolation haze when finding the bounding box.
const inkThreshold = 0.05

func normalise(src []float64, w, h, box, shx, shy int, dst []float64) {
	clear(dst)
	x0, y0, x1, y1 := w, h, -1, -1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if src[y*w+x] > inkThreshold {
				x0, y0 = min(x0, x), min(y0, y)
				x1, y1 = max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return
	}
	bw, bh := float64(x1-x0+1), float64(y1-y0+1)
	s := float64(box) / max(bw, bh)
	ow, oh := max(1, int(math.Round(bw*s))), max(1, int(math.Round(bh*s)))
	// Area-average the box into ow×oh.
	small := make([]float64, ow*oh)
	sxr, syr := bw/float64(ow), bh/float64(oh)
	for oy := 0; oy < oh; oy++ {
		fy0, fy1 := float64(y0)+float64(oy)*syr, float64(y0)+float64(oy+1)*syr
		for ox := 0; ox < ow; ox++ {
			fx0, fx1 := float64(x0)+float64(ox)*sxr, float64(x0)+float64(ox+1)*sxr
			var sum, area float64
			for yy := int(fy0); yy < int(math.Ceil(fy1)) && yy < h; yy++ {
				cy := math.Min(fy1, float64(yy+1)) - math.Max(fy0, float64(yy))
				if cy <= 0 {
					continue
				}
				for xx := int(fx0); xx < int(math.Ceil(fx1)) && xx < w; xx++ {
					cx := math.Min(fx1, float64(xx+1)) - math.Max(fx0, float64(xx))
					if cx <= 0 {
						continue
					}
					sum += src[yy*w+xx] * cx * cy
					area += cx * cy
				}
			}
			if area > 0 {
				small[oy*ow+ox] = min(1, sum/area)
			}
		}
	}
	// Centre of mass of the small image, in pixel-centre coordinates.
	var m, mx, my float64
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			v := small[y*ow+x]
			m += v
			mx += v * (float64(x) + 0.5)
			my += v * (float64(y) + 0.5)
		}
	}
	if m == 0 {
		return
	}
	// Integer offset so the centre of mass sits on pixel 14,14 (MNIST used integer translation too).
	offX := int(math.Round(comTarget-mx/m)) + shx
	offY := int(math.Round(comTarget-my/m)) + shy
	// Clamp so the digit keeps a 1-pixel margin: a digit cut by the frame would teach the wrong shape.
	offX = min(max(offX, 1), Side-1-ow)
	offY = min(max(offY, 1), Side-1-oh)
	for y := 0; y < oh; y++ {
		copy(dst[(y+offY)*Side+offX:(y+offY)*Side+offX+ow], small[y*ow:(y+1)*ow])
	}
}
