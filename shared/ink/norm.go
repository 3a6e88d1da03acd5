package ink

import (
	"encoding/binary"
	"math"
	"math/bits"

	"digitpad/shared/internal/floats"
)

// MNIST frame geometry: digits fit a 20×20 box inside the 28×28 input, centre of mass at pixel index 14.
const (
	side    = 28
	fitBox  = 20.0
	centreC = 14.0
)

// minWidthRatio and maxWidthRatio bound the stroke widths fromCrop keeps, relative to the normalised width:
// MNIST test digits measure 1.7..3.9 pixels (5%..95%) around a median of 2.5.
const (
	minWidthRatio = 0.8
	maxWidthRatio = 1.0
)

// widthThreshold is the coverage above which a pixel counts as stroke when measuring width; StrokeWidth and
// DefaultStrokeWidth (measured on MNIST) use the same value.
const widthThreshold = 0.3

// StrokeWidth estimates the mean stroke width, in pixels, of a 28×28 input (0..1, ink = 1): twice the ink
// area over the outline length, the outline counted in pixel edges and corrected by 4/π for their staircase
// overestimate. MNIST test digits measure 2.5 at the median (5%..95%: 1.7..3.9).
func StrokeWidth(in *[784]float32) float64 {
	return strokeWidth(in[:], side, side)
}

func strokeWidth(pix []float32, w, h int) float64 {
	// An outline edge lies between a stroke pixel and a non-stroke neighbour or the border. A row's stroke
	// pixels are marked as bytes (1 = stroke) in cur, padded with zeros to whole words; eight pixels' edges are
	// then counted at once: the changes from the pixel to the left (the word against itself shifted by a byte,
	// the last byte of the word before carried in) and from the row above (above, the previous row's marks),
	// one population count each. The padding's zeros stand for the right border. The area adds every pixel in
	// order, as the definition does.
	area, edges := 0.0, 0
	nw := (w + 7) &^ 7
	var buf [2 * 256]uint8
	var cur, above []uint8
	if 2*nw <= len(buf) {
		cur, above = buf[:nw:nw], buf[nw:2*nw:2*nw] // zero: the padding, and above the first row
	} else {
		b := make([]uint8, 2*nw)
		cur, above = b[:nw:nw], b[nw:]
	}
	for y := 0; y < h; y++ {
		row := pix[y*w : (y+1)*w]
		marks := cur[:len(row)]
		for x, v := range row {
			area += float64(v)
			marks[x] = b2u(v >= widthThreshold)
		}
		carry := uint64(0) // the last mark of the word before (none before the first: the left border)
		for i := 0; i+8 <= len(cur); i += 8 {
			c := binary.LittleEndian.Uint64(cur[i:])
			edges += bits.OnesCount64(c^(c<<8|carry)) + bits.OnesCount64(c^binary.LittleEndian.Uint64(above[i:]))
			binary.LittleEndian.PutUint64(above[i:], c)
			carry = c >> 56
		}
		edges += int(carry) // a row as long as its words: its last pixel against the right border
	}
	for i := 0; i+8 <= len(above); i += 8 { // the last row against the bottom border
		edges += bits.OnesCount64(binary.LittleEndian.Uint64(above[i:]))
	}
	if edges == 0 {
		return 0
	}
	return 8 / math.Pi * area / float64(edges)
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// fromCrop normalises a crop (coverage 0..1) of one digit. The scale is chosen so that after the stroke is
// thinned or thickened to width T the digit spans 20 pixels: the pen path (box minus stroke width) maps to
// 20-T. Width is then corrected by a grey-level erosion or dilation with a disc, in the 28×28 frame.
func fromCrop(crop []float32, cw, ch int, T float64) [784]float32 {
	w := strokeWidth(crop, cw, ch)
	B := float64(max(cw, ch))
	// The crop carries one pixel of fringe on each side.
	B = math.Max(1, B-2)
	w = math.Min(w, 0.5*B)
	// A stroke width that MNIST itself has is kept (the classic fit: ink box to 20 pixels); only pens
	// thinner or thicker than MNIST's are brought to the nearest width it has. Forcing every digit to one
	// width changes MNIST digits the model reads well.
	T = math.Max(T*minWidthRatio, math.Min(T*maxWidthRatio, w*fitBox/B))
	s := (fitBox - T) / math.Max(B-w, 1)
	// Keep the fit between 16 and 25 pixels whatever the width estimate says: a blob of ink has no path.
	s = math.Min(math.Max(s, 0.8*fitBox/B), 1.25*fitBox/B)

	var img [784]float32
	resample(crop, cw, ch, s, img[:])
	adjustWidth(img[:], w*s, T)
	return centreMass(&img)
}

// profileGamma lifts the grey levels of a resampled digit unless it was thinned (erosion leaves flat strokes): resampling a canvas whose grid does not line up
// with the 28×28 frame spreads every stroke edge over two pixels, so strokes come out fainter than MNIST's
// (of MNIST test digits drawn as canvases and read back, 12% of the ink pixels were saturated against 18% in
// the raw images, and the model misread more of them). v^0.55 restores the saturated share.
const profileGamma = 0.55

// profileLUT tabulates v^profileGamma at profileSteps+1 points; restoreProfile interpolates linearly.
var profileLUT = func() (t [profileSteps + 1]float32) {
	for i := range t {
		t[i] = float32(math.Pow(float64(i)/profileSteps, profileGamma))
	}
	return t
}()

const profileSteps = 1024

func restoreProfile(img []float32) {
	for i, v := range img {
		if v > 0 && v < 1 {
			f := v * profileSteps
			k := int(f)
			img[i] = profileLUT[k] + (f-float32(k))*(profileLUT[k+1]-profileLUT[k])
		}
	}
}

// resample draws the crop scaled by s into the 28×28 frame, crop centre at the frame centre, by exact
// box-filter (area) weights: each output pixel averages the crop area it covers, so a downscaled thin line
// keeps its ink as lower coverage instead of vanishing between samples.
//
// Crop row by crop row: the row's column sums (each its taps in order, pixel by pixel along the row) are
// added, weighted, to the output rows whose taps hold that row, row by row. So the result is that of summing
// each output's taps in turn; columns whose sum is zero and all-zero rows, which would add exact zeros, are
// skipped (a crop is mostly paper), and no crop-sized intermediate is kept.
func resample(crop []float32, cw, ch int, s float64, out []float32) {
	var xbuf, ybuf [maxTaps]float32
	xs, xw := boxSpans(cw, s, xbuf[:])
	ys, yw := boxSpans(ch, s, ybuf[:])
	// A downscaled crop's pixels each add to one column or two neighbours (where a column's box ends inside
	// the pixel): then the row is added pixel by pixel, skipping its zeros (pixelTaps); otherwise column by
	// column (colSums).
	var pt pixelTaps
	byPixel := pt.init(cw, &xs, xw)
	out = out[:side*side]
	clear(out)
	var sums [side + 1]float32 // one past the last column: a pixel's second tap there has weight zero
	v0 := 0                    // the first output row whose taps reach crop row y or beyond
	for y := 0; y < ch; y++ {
		for v0 < side && ys[v0].first+ys[v0].n <= y {
			v0++
		}
		// Only the columns [ulo, uhi) can have non-zero sums: the others would add exact zeros to the
		// output, leaving it as it is (its sums are never negative zero).
		var ulo, uhi int
		if byPixel {
			ulo, uhi = pt.sums(&sums, crop[y*cw:(y+1)*cw])
		} else {
			ulo, uhi = colSums((*[side]float32)(sums[:side]), crop[y*cw:(y+1)*cw], &xs, xw)
		}
		if ulo >= uhi {
			continue
		}
		for v := v0; v < side && ys[v].first <= y; v++ {
			if i := y - ys[v].first; i < ys[v].n {
				wt := yw[ys[v].off+i]
				dst := out[v*side+ulo : v*side+uhi]
				for u, sv := range sums[ulo:uhi] {
					dst[u] += wt * sv
				}
			}
		}
		if byPixel {
			clear(sums[ulo:uhi])
		}
	}
}

// pixelTaps are the x taps of a crop whose pixels each fall in one output column or two neighbours: pixel x
// adds w1[x] times its value to column col[x] and w2[x] times it to column col[x]+1 (w2 zero when there is
// no second column); col is non-decreasing in x.
type pixelTaps struct {
	col    [maxTaps]uint8
	w1, w2 [maxTaps]float32
	n      int
}

// init fills the taps from the columns' spans and weights (boxSpans); false when the crop is wider than the
// table or a pixel falls in three columns or more (an upscaled crop).
func (t *pixelTaps) init(cw int, xs *[side]span, xw []float32) bool {
	if cw > maxTaps {
		return false
	}
	t.n = cw
	var taps [maxTaps]uint8
	// A pixel outside every column (a crop scaled wider than the frame) adds zeros to column 0 and 1 if it is
	// left of the columns, to the last column (and the one past it) if right: col stays non-decreasing in x, as
	// sums' column range needs.
	for x := range cw {
		t.col[x], t.w1[x], t.w2[x] = side-1, 0, 0
	}
	for x := range min(cw, xs[firstTapped(xs)].first) {
		t.col[x] = 0
	}
	for u, sp := range xs {
		for i := range sp.n {
			x, w := sp.first+i, xw[sp.off+i]
			switch taps[x] {
			case 0:
				t.col[x], t.w1[x] = uint8(u), w
			case 1: // columns come in order: this is col[x]+1
				t.w2[x] = w
			default:
				return false
			}
			taps[x]++
		}
	}
	return true
}

// firstTapped is the first output position with taps (0 when there is none).
func firstTapped(xs *[side]span) int {
	for u, sp := range xs {
		if sp.n > 0 {
			return u
		}
	}
	return 0
}

// sums adds row's non-zero pixels, weighted, to sums in order (each column's taps pixel by pixel along the row,
// as colSums adds them; a zero pixel, and a second tap of weight zero, would add exact zeros) and returns the
// columns [ulo, uhi) it added to (empty when the row is all zero). sums must be zero before; the caller clears
// sums[ulo:uhi] after.
func (t *pixelTaps) sums(sums *[side + 1]float32, row []float32) (ulo, uhi int) {
	lo, hi := inkSpan(row[:t.n])
	if lo >= hi {
		return 0, 0
	}
	col, w1, w2 := t.col[lo:hi], t.w1[lo:hi], t.w2[lo:hi]
	for x, v := range row[lo:hi] {
		if v == 0 {
			continue
		}
		s := sums[col[x]:][:2]
		s[0] += w1[x] * v
		s[1] += w2[x] * v
	}
	return int(col[0]), min(side, int(col[len(col)-1])+2)
}

// colSums sets sums[u] to the weighted sum of row over output column u's taps (xs[u], weights in xw), added in
// order from its first pixel, and returns the columns [ulo, uhi) outside which every sum is zero (empty when
// all are). Only sums[ulo:uhi] are meaningful: the columns whose taps all lie left or right of the row's ink
// are not computed (their sums are zero). A zero pixel adds an exact zero (weights and pixels are never
// negative), so the sums are those of adding the non-zero pixels alone.
func colSums(sums *[side]float32, row []float32, xs *[side]span, xw []float32) (ulo, uhi int) {
	ulo, uhi = side, 0
	lo, hi := inkSpan(row)
	if lo >= hi {
		return ulo, uhi
	}
	for u := range side {
		sp := xs[u]
		if sp.first+sp.n <= lo {
			continue // left of the ink (or no taps, outside the crop)
		}
		if sp.first >= hi {
			break // right of the ink, and so are the columns after it
		}
		ws := xw[sp.off:][:sp.n]
		px := row[sp.first:][:len(ws)]
		acc := float32(0)
		for i, wt := range ws {
			acc += wt * px[i]
		}
		sums[u] = acc
		if acc != 0 {
			ulo, uhi = min(ulo, u), u+1
		}
	}
	return ulo, uhi
}

// span is one output position's taps: source pixels first..first+n-1, their weights at off in the shared
// weight slice.
type span struct{ first, off, n int }

// maxTaps bounds the taps of one axis kept in the caller's buffer: about a crop's width plus 28.
const maxTaps = 512

// boxSpans maps each of the 28 output positions to the source pixels it covers, n source pixels centred, and
// returns the weights of all taps in one slice (buf when it is long enough). An output that covers none has
// no taps.
func boxSpans(n int, s float64, buf []float32) (spans [side]span, all []float32) {
	c := float64(n) / 2
	bounds := func(u int) (a, b float64, i0, i1 int) {
		a = (float64(u)-centreC)/s + c
		b = (float64(u)+1-centreC)/s + c
		return a, b, max(0, int(math.Floor(a))), min(n, int(math.Ceil(b)))
	}
	total := 0
	for u := range spans {
		if _, _, i0, i1 := bounds(u); i1 > i0 {
			total += i1 - i0
		}
	}
	all = buf
	if total > len(all) {
		all = make([]float32, total)
	}
	all = all[:total]
	off := 0
	for u := range spans {
		a, b, i0, i1 := bounds(u)
		if i0 >= i1 {
			continue
		}
		spans[u] = span{first: i0, off: off, n: i1 - i0}
		for i := i0; i < i1; i++ {
			// floats.Min and Max: the same results as math's for these finite values, without a call each.
			ov := floats.Min(b, float64(i+1)) - floats.Max(a, float64(i))
			all[off] = float32(floats.Max(0, ov) * s)
			off++
		}
	}
	return spans, all
}

type weights struct {
	first int
	w     []float32
}

// boxWeights is boxSpans as one tap list per output position.
func boxWeights(n int, s float64) []weights {
	spans, all := boxSpans(n, s, nil)
	out := make([]weights, side)
	for u, sp := range spans {
		if sp.n > 0 {
			out[u] = weights{first: sp.first, w: all[sp.off : sp.off+sp.n : sp.off+sp.n]}
		}
	}
	return out
}

// adjustWidth brings strokes of estimated width got to width want. Thin strokes are blurred with a Gaussian
// and re-levelled at half the height of the blurred stroke profile (its full width at half maximum is
// sqrt(got² + (2.355σ)²)); this also restores a hairline that downscaling left at a tenth of full coverage.
// Thick strokes are eroded with a disc.
func adjustWidth(img []float32, got, want float64) {
	switch {
	case got < want-0.3:
		thicken(img, got, want)
		restoreProfile(img)
	case got > want+0.3:
		morph(img, (got-want)/2, false)
	default:
		normalizePeakProfile(img)
	}
}

func thicken(img []float32, got, want float64) {
	sigma := math.Sqrt(want*want-got*got) / 2.355
	blur(img, sigma)
	// The blurred height of a stroke of width got at full ink is erf(got / (2√2σ)). Taking it from the width
	// estimate rather than from the image keeps crossings (brighter after blurring) and faint hairlines
	// (darker) from setting the level.
	p := float32(math.Erf(got / (2 * math.Sqrt2 * sigma)))
	if p <= 0 {
		return
	}
	lo, hi := 0.3*p, 0.7*p
	for i, v := range img {
		img[i] = floats.Min(1, floats.Max(0, (v-lo)/(hi-lo)))
	}
}

// normalizePeakProfile stretches the grey levels so the strongest ink is 1 (when it is below), then restores the profile (restoreProfile), in one pass over the non-zero pixels: a zero stays zero
// through both (the gain is positive, and restoreProfile leaves zeros).
func normalizePeakProfile(img []float32) {
	peak := float32(0)
	for _, v := range img {
		peak = floats.Max(peak, v)
	}
	stretch := peak > 0 && peak < 1
	gain := 1 / max(peak, 0.05)
	for i, v := range img {
		if v == 0 {
			continue
		}
		if stretch {
			v = floats.Min(1, v*gain)
		}
		if v > 0 && v < 1 {
			f := v * profileSteps
			k := int(f)
			v = profileLUT[k] + (f-float32(k))*(profileLUT[k+1]-profileLUT[k])
		}
		img[i] = v
	}
}

// blur is a separable Gaussian blur of the 28×28 frame with zero padding. Rows and columns are copied into a
// zero-padded line so the taps need no bounds checks; a padding tap adds an exact zero, so the sums are the
// same as skipping it.
func blur(img []float32, sigma float64) {
	if sigma <= 0 {
		return
	}
	r := int(math.Ceil(3 * sigma))
	if r > maxBlurRadius {
		blurSlow(img, sigma)
		return
	}
	var kb [2*maxBlurRadius + 1]float32
	k := kb[:2*r+1]
	gaussKernel(k, sigma)
	var tmp [side * side]float32
	var line [side + 2*maxBlurRadius]float32
	pad := line[:side+2*r]
	// Blank rows and columns (the frame around the digit) blur to exact zeros: they are skipped. So are the
	// outputs of a line farther than r from its ink: all their taps add exact zeros.
	for y := 0; y < side; y++ {
		row := img[y*side : (y+1)*side]
		lo, hi := inkSpan(row)
		if lo >= hi {
			continue // tmp's row stays zero
		}
		copy(pad[r:r+side], row)
		a, b := max(0, lo-r), min(side, hi+r)
		convolve(tmp[y*side+a:y*side+b], pad[a:], k)
	}
	var col [side]float32
	for x := 0; x < side; x++ {
		lo, hi := side, 0
		for y := 0; y < side; y++ {
			v := tmp[y*side+x]
			pad[r+y] = v
			if v != 0 {
				lo, hi = min(lo, y), y+1
			}
		}
		clear(col[:])
		if lo < hi {
			a, b := max(0, lo-r), min(side, hi+r)
			convolve(col[a:b], pad[a:], k)
		}
		for y := 0; y < side; y++ {
			img[y*side+x] = col[y]
		}
	}
}

// inkSpan returns the first non-zero value of v and one past the last (lo >= hi: all zero).
func inkSpan(v []float32) (lo, hi int) {
	lo = 0
	for lo < len(v) && v[lo] == 0 {
		lo++
	}
	hi = len(v)
	for hi > lo && v[hi-1] == 0 {
		hi--
	}
	return lo, hi
}

// maxBlurRadius is the largest kernel radius blur handles with its fixed buffers.
const maxBlurRadius = 16

// convolve sets out[i] = Σ_j k[j]·pad[i+j], summing in j order. Four outputs are summed side by side: one
// output's sum is a chain of dependent additions, four chains keep the FPU busy.
func convolve(out, pad, k []float32) {
	i := 0
	for ; i+4 <= len(out); i += 4 {
		var a0, a1, a2, a3 float32
		win := pad[i : i+len(k)+3]
		for j, kv := range k {
			w := win[j : j+4 : j+4]
			a0 += kv * w[0]
			a1 += kv * w[1]
			a2 += kv * w[2]
			a3 += kv * w[3]
		}
		out[i], out[i+1], out[i+2], out[i+3] = a0, a1, a2, a3
	}
	for ; i < len(out); i++ {
		win := pad[i : i+len(k)]
		var acc float32
		for j, kv := range k {
			acc += kv * win[j]
		}
		out[i] = acc
	}
}

// gaussKernel fills k (2r+1 taps) with a normalised Gaussian of the given sigma centred on tap r.
func gaussKernel(k []float32, sigma float64) {
	r := len(k) / 2
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		v := math.Exp(-d * d / (2 * sigma * sigma))
		k[i] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] /= float32(sum)
	}
}

// blurSlow is blur for very wide kernels (never needed for the stroke widths segmentation produces).
func blurSlow(img []float32, sigma float64) {
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	gaussKernel(k, sigma)
	var tmp [side * side]float32
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			var acc float32
			for i, kv := range k {
				if xx := x + i - r; xx >= 0 && xx < side {
					acc += kv * img[y*side+xx]
				}
			}
			tmp[y*side+x] = acc
		}
	}
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			var acc float32
			for i, kv := range k {
				if yy := y + i - r; yy >= 0 && yy < side {
					acc += kv * tmp[yy*side+x]
				}
			}
			img[y*side+x] = acc
		}
	}
}

// morph is a grey-level dilation (max) or erosion (min) with an anti-aliased disc of radius r: offsets at
// distance d weigh clamp(r+0.5-d), so fractional radii change the width smoothly.
func morph(img []float32, r float64, dilate bool) {
	type off struct {
		dx, dy int
		w      float32
	}
	ri := int(math.Ceil(r + 0.5))
	var offs []off
	for dy := -ri; dy <= ri; dy++ {
		for dx := -ri; dx <= ri; dx++ {
			wt := r + 0.5 - math.Hypot(float64(dx), float64(dy))
			if dx == 0 && dy == 0 {
				wt = 1 // a pixel always counts fully for itself
			}
			if wt > 0 {
				offs = append(offs, off{dx, dy, float32(math.Min(1, wt))})
			}
		}
	}
	src := make([]float32, len(img))
	copy(src, img)
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			if !dilate && src[y*side+x] == 0 {
				continue // erosion: a pixel counts fully for itself, so no ink stays no ink
			}
			var acc float32
			if !dilate {
				acc = 1
			}
			for _, o := range offs {
				xx, yy := x+o.dx, y+o.dy
				var v float32
				if xx >= 0 && yy >= 0 && xx < side && yy < side {
					v = src[yy*side+xx]
				}
				if dilate {
					acc = floats.Max(acc, v*o.w)
				} else {
					acc = floats.Min(acc, 1-(1-v)*o.w)
				}
			}
			img[y*side+x] = acc
		}
	}
}

// centreMass shifts the image by whole pixels so its centre of mass sits at index (14,14), as MNIST did.
func centreMass(img *[784]float32) [784]float32 {
	// The sums run pixel by pixel in row-major order, as the moments are defined; the coordinates are counted
	// in float64 (exact) instead of converted per pixel. Zeros left and right of a row's ink, and blank rows,
	// would add exact zeros (the sums never are negative zero): they are skipped.
	var m, sx, sy float64
	fy := 0.0
	for y := 0; y < side; y++ {
		lo, hi := inkSpan(img[y*side : (y+1)*side])
		fx := float64(lo)
		for _, v32 := range img[y*side+lo : y*side+hi] {
			v := float64(v32)
			m += v
			sx += v * fx
			sy += v * fy
			fx++
		}
		fy++
	}
	if m == 0 {
		return *img
	}
	dx := int(math.Round(centreC - sx/m))
	dy := int(math.Round(centreC - sy/m))
	if dx == 0 && dy == 0 {
		return *img
	}
	// out[y][x] = img[y-dy][x-dx] where that is inside the frame, zero elsewhere: one copy per row.
	var out [784]float32
	x0, x1 := max(0, dx), min(side, side+dx) // the columns of out that have a source
	if x0 >= x1 {
		return out
	}
	for y := max(0, dy); y < min(side, side+dy); y++ {
		yy := y - dy
		copy(out[y*side+x0:y*side+x1], img[yy*side+x0-dx:yy*side+x1-dx])
	}
	return out
}

// fromStrokes renders pen paths (canvas coordinates) into the 28×28 frame with an MNIST-like round pen of
// width T: the pen path is scaled to span 20-T pixels, so with the pen the digit spans 20. minSpan keeps a
// short mark (a dot, a dash) from being blown up to full size.
func fromStrokes(paths []Stroke, T, minSpan float64) [784]float32 {
	x0, y0, x1, y1 := pathBounds(paths)
	span := math.Max(math.Max(x1-x0, y1-y0), math.Max(minSpan, 1e-3))
	s := (fitBox - T) / span
	cx, cy := (x0+x1)/2, (y0+y1)/2
	var img [784]float32
	c := raster[float32]{w: side, h: side, pix: img[:], full: 1}
	for _, p := range paths {
		drawStroke(&c, p, T/2, cx-centreC/s, cy-centreC/s, s)
	}
	return centreMass(&img)
}
