package ink

import (
	"encoding/binary"
	"fmt"
	"image"
)

// WorkHeight is the canvas height above which images are reduced before masking and segmentation: a digit
// ends up 20 pixels tall, so pixels beyond that only cost time (a 280×280 pad snapshot at full size spent most
// of a request in the mask and the segmentation). The stroke path rasterises at the same height.
const WorkHeight = 160

// WorkFactor is the integer factor a canvas h pixels high is reduced by: the smallest that brings it to at most
// WorkHeight (1 for short canvases). An integer factor makes the reduction an exact box average, cheap enough
// to run while an image is being decoded.
func WorkFactor(h int) int {
	if h <= WorkHeight {
		return 1
	}
	return (h + WorkHeight - 1) / WorkHeight
}

// Layout names the interleaved 8-bit channel order of rows given to a Shrinker.
type Layout uint8

// Row layouts: grey; grey and straight alpha; RGB; RGBA (straight or premultiplied: only the luma ordering
// and the alpha matter).
const (
	Gray8 Layout = iota + 1
	GrayAlpha8
	RGB8
	RGBA8
)

func (l Layout) bytesPerPixel() int {
	switch l {
	case Gray8:
		return 1
	case GrayAlpha8:
		return 2
	case RGB8:
		return 3
	case RGBA8:
		return 4
	}
	return 0
}

// Shrinker builds a working-resolution ink mask from canvas rows as they are decoded, so a large canvas is
// never held at full size: each mask pixel is the box average of Factor×Factor canvas pixels (luma, and alpha
// when some pixel is translucent), then polarity and contrast are decided at working resolution exactly as
// MaskFromImage decides them at full size. WorkMaskFromImage uses it for decoded images; a decoder can feed it
// rows directly (the server's PNG path does).
type Shrinker struct {
	w, h, k int
	sw, sh  int
	next    int // the next canvas row expected
	// bandOpaque counts rows of the current band given without alpha (their alpha is 255 everywhere).
	bandOpaque int
	aacc       []uint32 // alpha column sums of the current band (luma is reduced from fullLuma)
	// alphaBands is set once a band with alpha was flushed; opaque bands before it have no alpha written.
	alphaBands bool
	luma       []uint8 // working-resolution planes
	alpha      []uint8
	alphaAnd   uint8
	arow       []uint8 // one canvas row's alpha
	lastAlpha  []uint8 // the alpha of the last row added (nil: opaque), for RepeatRow
	// inkLo and inkHi bound the canvas columns of the current band where some row's luma may not be white
	// (255): the blocks outside them average to 255 without being summed (empty when inkLo >= inkHi).
	// lastLo and lastHi are the last row's own bounds, for RepeatRow.
	inkLo, inkHi   int
	lastLo, lastHi int
	// ink bounds the canvas pixels whose luma may not be white: the columns and rows of every row's [lo, hi).
	ink image.Rectangle
	// fullLuma and fullAlpha keep the canvas at full resolution for Mask.FullResolution (alpha only once a
	// translucent row was seen; earlier rows were opaque).
	fullLuma, fullAlpha []uint8
	spareAlpha          []uint8 // a previous canvas's fullAlpha, reused when this one turns translucent
}

// NewShrinker prepares a reduction of a w×h canvas by WorkFactor(h); the size is checked against opt.MaxPixels.
func NewShrinker(w, h int, opt Options) (*Shrinker, error) {
	s := new(Shrinker)
	if err := s.Reset(w, h, opt); err != nil {
		return nil, err
	}
	return s, nil
}

// Reset prepares s for a new w×h canvas as NewShrinker does, reusing its buffers: masks s returned before (and
// their FullResolution) share those buffers and must no longer be used.
func (s *Shrinker) Reset(w, h int, opt Options) error {
	if err := opt.checkSize(w, h); err != nil {
		return err
	}
	k := WorkFactor(h)
	sw, sh := (w+k-1)/k, (h+k-1)/k
	spare := s.fullAlpha
	if spare == nil {
		spare = s.spareAlpha
	}
	*s = Shrinker{
		w: w, h: h, k: k, sw: sw, sh: sh, alphaAnd: 0xff, inkLo: w, ink: image.Rectangle{Min: image.Pt(w, h)},
		arow: resize(s.arow, w), fullLuma: resize(s.fullLuma, w*h)[:0],
		spareAlpha: spare, aacc: s.aacc, luma: s.luma, alpha: s.alpha,
	}
	if k > 1 { // a short canvas is its own working plane: fullLuma
		s.aacc = resize(s.aacc, sw)
		clear(s.aacc)
		s.luma, s.alpha = resize(s.luma, sw*sh), resize(s.alpha, sw*sh)
	}
	return nil
}

// resize returns b with length n, reallocated only when its capacity is short.
func resize[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// Size is the canvas size s was set up for.
func (s *Shrinker) Size() (w, h int) { return s.w, s.h }

// Factor is the reduction factor: each mask pixel covers Factor×Factor canvas pixels.
func (s *Shrinker) Factor() int { return s.k }

// Row adds canvas row y (rows must come in order, 0 first) given as w pixels in layout l.
func (s *Shrinker) Row(y int, row []byte, l Layout) error {
	bpp := l.bytesPerPixel()
	if y != s.next || bpp == 0 || len(row) < bpp*s.w {
		return fmt.Errorf("ink: shrinker row %d (want %d) of %d bytes in layout %d: %w", y, s.next, len(row), l, ErrBadInput)
	}
	// The row's luma goes straight into the full-resolution plane (kept for FullResolution).
	n := len(s.fullLuma)
	s.fullLuma = s.fullLuma[:n+s.w]
	lr, ar := s.fullLuma[n:n+s.w:n+s.w], s.arow
	lo, hi := 0, s.w
	switch l {
	case Gray8:
		copy(lr, row[:s.w])
		lo, hi = whiteMargins(lr)
		ar = nil
	case GrayAlpha8:
		and := uint8(0xff)
		for x := range lr {
			lr[x], ar[x] = row[2*x], row[2*x+1]
			and &= ar[x]
		}
		if and == 0xff {
			ar = nil // an opaque row counts as one without alpha (the same sums)
		}
	case RGB8:
		lo, hi = rgbLuma(lr, row[:3*s.w])
		ar = nil
	case RGBA8:
		row = row[:4*s.w]
		ar = ar[:len(lr)]
		and := uint32(0xffffffff)
		for x := range lr {
			v := binary.LittleEndian.Uint32(row[4*x:])
			lr[x] = uint8((77*(v&0xff) + 150*(v>>8&0xff) + 29*(v>>16&0xff)) >> 8)
			ar[x] = uint8(v >> 24)
			and &= v
		}
		if and>>24 == 0xff {
			ar = nil
		}
	}
	s.lastAlpha, s.lastLo, s.lastHi = ar, lo, hi
	s.accumulate(lr, ar, lo, hi)
	return nil
}

// RepeatRow adds canvas row y (y > 0) as the same pixels as row y-1: what Row does with those pixels again,
// without converting them (a decoder knows when a row repeats the one above: blank canvas rows).
func (s *Shrinker) RepeatRow(y int) error {
	if y != s.next || y == 0 {
		return fmt.Errorf("ink: shrinker repeats row %d (want %d > 0): %w", y, s.next, ErrBadInput)
	}
	n := len(s.fullLuma)
	s.fullLuma = s.fullLuma[:n+s.w]
	copy(s.fullLuma[n:], s.fullLuma[n-s.w:n])
	s.accumulate(s.fullLuma[n:], s.lastAlpha, s.lastLo, s.lastHi)
	return nil
}

// rgbLuma converts RGB pixels to luma (the weights of MaskFromImage). Runs of white, most of a canvas, take
// eight pixels at a time; the white margins left and right of the ink are found by comparing words first.
// Pixels outside [lo, hi) are white (lo >= hi: all of them).
func rgbLuma(dst, rgb []uint8) (lo, hi int) {
	const white = ^uint64(0)
	n := min(len(dst), len(rgb)/3)
	dst, rgb = dst[:n], rgb[:3*n]
	// White margins, in whole blocks of eight pixels (24 bytes: three words), sixteen at a time first.
	l := 0
	for ; l+48 <= len(rgb); l += 48 {
		w := rgb[l : l+48 : l+48]
		if binary.LittleEndian.Uint64(w)&binary.LittleEndian.Uint64(w[8:])&binary.LittleEndian.Uint64(w[16:])&
			binary.LittleEndian.Uint64(w[24:])&binary.LittleEndian.Uint64(w[32:])&binary.LittleEndian.Uint64(w[40:]) != white {
			break
		}
	}
	for ; l+24 <= len(rgb); l += 24 {
		w := rgb[l : l+24 : l+24]
		if binary.LittleEndian.Uint64(w)&binary.LittleEndian.Uint64(w[8:])&binary.LittleEndian.Uint64(w[16:]) != white {
			break
		}
	}
	r := len(rgb)
	for ; r-48 >= l; r -= 48 {
		w := rgb[r-48 : r : r]
		if binary.LittleEndian.Uint64(w)&binary.LittleEndian.Uint64(w[8:])&binary.LittleEndian.Uint64(w[16:])&
			binary.LittleEndian.Uint64(w[24:])&binary.LittleEndian.Uint64(w[32:])&binary.LittleEndian.Uint64(w[40:]) != white {
			break
		}
	}
	for ; r-24 >= l; r -= 24 {
		w := rgb[r-24 : r : r]
		if binary.LittleEndian.Uint64(w)&binary.LittleEndian.Uint64(w[8:])&binary.LittleEndian.Uint64(w[16:]) != white {
			break
		}
	}
	fillFF(dst[:l/3])
	fillFF(dst[r/3:])
	lo, hi = l/3, r/3
	dst, rgb = dst[l/3:r/3], rgb[l:r]
	// One AND tests a block of eight pixels, so a white block costs a few instructions. The slices advance
	// block by block (indexing them by x cost ~45 instructions of bounds checks and slicing per block).
	for len(dst) >= 8 && len(rgb) >= 24 {
		p, d := (*[24]uint8)(rgb), (*[8]uint8)(dst)
		if binary.LittleEndian.Uint64(p[:])&binary.LittleEndian.Uint64(p[8:])&binary.LittleEndian.Uint64(p[16:]) == white {
			binary.LittleEndian.PutUint64(d[:], white) // (77+150+29)·255 >> 8 = 255
		} else {
			// Eight pixels written out with constant indices: no bounds checks, and no call (whose spills cost
			// ~10 instructions a block).
			d[0] = uint8((77*uint32(p[0]) + 150*uint32(p[1]) + 29*uint32(p[2])) >> 8)
			d[1] = uint8((77*uint32(p[3]) + 150*uint32(p[4]) + 29*uint32(p[5])) >> 8)
			d[2] = uint8((77*uint32(p[6]) + 150*uint32(p[7]) + 29*uint32(p[8])) >> 8)
			d[3] = uint8((77*uint32(p[9]) + 150*uint32(p[10]) + 29*uint32(p[11])) >> 8)
			d[4] = uint8((77*uint32(p[12]) + 150*uint32(p[13]) + 29*uint32(p[14])) >> 8)
			d[5] = uint8((77*uint32(p[15]) + 150*uint32(p[16]) + 29*uint32(p[17])) >> 8)
			d[6] = uint8((77*uint32(p[18]) + 150*uint32(p[19]) + 29*uint32(p[20])) >> 8)
			d[7] = uint8((77*uint32(p[21]) + 150*uint32(p[22]) + 29*uint32(p[23])) >> 8)
		}
		dst, rgb = dst[8:], rgb[24:]
	}
	for x := range dst {
		q := rgb[3*x : 3*x+3 : 3*x+3]
		dst[x] = uint8((77*uint32(q[0]) + 150*uint32(q[1]) + 29*uint32(q[2])) >> 8)
	}
	return lo, hi
}

// whiteMargins returns the columns [lo, hi) of row outside which every byte is white (0xff), found eight bytes
// at a time from both ends (lo >= hi: the whole row is white). A grey canvas's margins then stay out of the ink
// rectangle, as an RGB canvas's do (rgbLuma), so the mask's contrast pass reads only the ink's rows and columns.
func whiteMargins(row []uint8) (lo, hi int) {
	const white = ^uint64(0)
	for lo+8 <= len(row) && binary.LittleEndian.Uint64(row[lo:]) == white {
		lo += 8
	}
	for lo < len(row) && row[lo] == 0xff {
		lo++
	}
	hi = len(row)
	for hi-8 >= lo && binary.LittleEndian.Uint64(row[hi-8:]) == white {
		hi -= 8
	}
	for hi > lo && row[hi-1] == 0xff {
		hi--
	}
	return lo, hi
}

// add accumulates one canvas row of luma and alpha (nil: opaque) given in the caller's slices.
func (s *Shrinker) add(lr, ar []uint8) {
	s.fullLuma = append(s.fullLuma, lr...)
	s.accumulate(s.fullLuma[len(s.fullLuma)-s.w:], ar, 0, s.w)
}

// accumulate adds the row whose luma is the last row of fullLuma (lr) and whose alpha is ar (nil: opaque);
// its luma is white outside columns [lo, hi).
func (s *Shrinker) accumulate(lr, ar []uint8, lo, hi int) {
	reduce := s.k > 1
	if lo < hi {
		s.inkLo, s.inkHi = min(s.inkLo, lo), max(s.inkHi, hi)
		s.ink.Min.X, s.ink.Max.X = min(s.ink.Min.X, lo), max(s.ink.Max.X, hi)
		s.ink.Min.Y, s.ink.Max.Y = min(s.ink.Min.Y, s.next), s.next+1
	}
	if ar == nil {
		s.bandOpaque++
		if s.fullAlpha != nil {
			n := len(s.fullAlpha)
			s.fullAlpha = s.fullAlpha[:n+s.w]
			for i := range s.fullAlpha[n:] {
				s.fullAlpha[n+i] = 0xff
			}
		}
	} else {
		if reduce {
			sumColumns(s.aacc, ar, s.k)
		}
		and := s.alphaAnd
		for _, v := range ar {
			and &= v
		}
		s.alphaAnd = and
		if and != 0xff {
			if s.fullAlpha == nil {
				s.fullAlpha = resize(s.spareAlpha, s.w*s.h)[:s.next*s.w]
				fillFF(s.fullAlpha)
			}
			s.fullAlpha = append(s.fullAlpha, ar...)
		}
	}
	s.next++
	if reduce && (s.next%s.k == 0 || s.next == s.h) {
		s.flush()
	}
}

// sumColumns adds each run of k values of row to one accumulator (the last run may be shorter).
func sumColumns(acc []uint32, row []uint8, k int) {
	if k == 2 {
		n := len(row) / 2
		acc, pairs := acc[:n], row[:2*n]
		i := 0
		for ; i+4 <= n; i += 4 {
			// Four pair sums at once: the even and the odd bytes of eight, added as 16-bit lanes.
			v := binary.LittleEndian.Uint64(pairs[2*i:])
			const even = 0x00ff00ff00ff00ff
			p := v&even + v>>8&even
			a := acc[i : i+4 : i+4]
			a[0] += uint32(p & 0xffff)
			a[1] += uint32(p >> 16 & 0xffff)
			a[2] += uint32(p >> 32 & 0xffff)
			a[3] += uint32(p >> 48)
		}
		for ; i < n; i++ {
			acc[i] += uint32(pairs[2*i]) + uint32(pairs[2*i+1])
		}
		if len(row)&1 == 1 {
			acc = acc[:n+1]
			acc[n] += uint32(row[len(row)-1])
		}
		return
	}
	for ox, x := 0, 0; x < len(row); ox++ {
		end := min(x+k, len(row))
		var sum uint32
		for _, v := range row[x:end] {
			sum += uint32(v)
		}
		acc[ox] += sum
		x = end
	}
}

// flush writes the band that ends at row s.next into the working planes: each pixel the rounded mean of its
// block (blocks on the right and bottom edges may be smaller).
func (s *Shrinker) flush() {
	oy := (s.next - 1) / s.k
	rows := s.next - oy*s.k
	// Blocks wholly left or right of the band's ink columns are white: (255·n + n/2) / n = 255.
	dl := s.luma[oy*s.sw : (oy+1)*s.sw]
	o0, o1 := s.inkLo/s.k, min(s.sw, (s.inkHi+s.k-1)/s.k)
	if o0 >= o1 {
		fillFF(dl)
	} else {
		fillFF(dl[:o0])
		fillFF(dl[o1:])
		x0 := o0 * s.k
		reduceLuma(dl[o0:o1], s.fullLuma[oy*s.k*s.w+x0:s.next*s.w], s.w, min(s.w, o1*s.k)-x0, rows, s.k)
	}
	s.inkLo, s.inkHi = s.w, 0
	da := s.alpha[oy*s.sw : (oy+1)*s.sw]
	switch {
	case s.bandOpaque < rows: // some row of the band had alpha
		if !s.alphaBands {
			// Bands before the first with alpha were opaque; their alpha was not written.
			s.alphaBands = true
			fillFF(s.alpha[:oy*s.sw])
		}
		for ox := range da {
			m := uint32(rows * min(s.k, s.w-ox*s.k))
			cols := m / uint32(rows)
			da[ox] = uint8((s.aacc[ox] + 255*cols*uint32(s.bandOpaque) + m/2) / m)
		}
		clear(s.aacc)
	case s.alphaBands:
		fillFF(da)
	}
	s.bandOpaque = 0
}

// fillFF sets every byte of b to 0xff (white), copying from a white block (memmove beats a loop of words).
func fillFF(b []uint8) {
	for len(b) > 0 {
		b = b[copy(b, whiteBlock[:]):]
	}
}

// whiteBlock is fillFF's source; never written.
var whiteBlock = func() (w [512]uint8) {
	for i := range w {
		w[i] = 0xff
	}
	return w
}()

// reduceLuma writes the rounded block means of a band of rows (each w pixels, stride bytes apart) into dst:
// block (ox) covers columns ox·k up to k wide (the last may be narrower) and all rows of the band.
func reduceLuma(dst, band []uint8, stride, w, rows, k int) {
	ox := 0
	if k == 2 && rows == 2 {
		// Four 2×2 means from eight columns of both rows: byte pairs summed in 16-bit lanes.
		const even = 0x00ff00ff00ff00ff
		n := min(w/8, len(dst)/4)
		r0, r1, d := band[:8*n], band[stride:stride+8*n], dst[:4*n]
		for len(r0) >= 8 && len(r1) >= 8 && len(d) >= 4 {
			a, b := binary.LittleEndian.Uint64(r0), binary.LittleEndian.Uint64(r1)
			r0, r1 = r0[8:], r1[8:]
			v := uint64(^uint32(0))
			if a&b != ^uint64(0) { // not white paper
				v = (a&even + a>>8&even + b&even + b>>8&even + 0x0002000200020002) >> 2 & even
				v = (v | v>>8) & 0x0000ffff0000ffff
				v = (v | v>>16) & 0xffffffff
			}
			binary.LittleEndian.PutUint32(d, uint32(v))
			d = d[4:]
		}
		ox = 4 * n
	}
	for ; ox < len(dst); ox++ {
		x0, x1 := ox*k, min(w, ox*k+k)
		var sum uint32
		for r := range rows {
			for _, v := range band[r*stride+x0 : r*stride+x1] {
				sum += uint32(v)
			}
		}
		n := uint32(rows * (x1 - x0))
		dst[ox] = uint8((sum + n/2) / n)
	}
}

// Mask decides polarity and contrast on the working planes and returns the working-resolution mask. Every row
// must have been added.
func (s *Shrinker) Mask() (*Mask, error) {
	if s.next != s.h {
		return nil, fmt.Errorf("ink: shrinker got %d of %d rows: %w", s.next, s.h, ErrBadInput)
	}
	var alpha []uint8
	if s.alphaAnd != 0xff {
		alpha = s.alpha
	}
	ink := s.ink
	if ink.Empty() {
		ink = image.Rectangle{}
	}
	if s.k == 1 {
		return maskFromPlanes(s.fullLuma, s.fullAlpha, s.w, s.h, ink), nil
	}
	// A working pixel is white unless its block holds some of the canvas's ink rectangle (flush).
	k := s.k
	work := image.Rect(ink.Min.X/k, ink.Min.Y/k, (ink.Max.X+k-1)/k, (ink.Max.Y+k-1)/k)
	m := maskFromPlanes(s.luma, alpha, s.sw, s.sh, work)
	m.Factor, m.CanvasW, m.CanvasH = s.k, s.w, s.h
	luma, fa, w, h := s.fullLuma, s.fullAlpha, s.w, s.h
	m.full = func() *Mask { return maskFromPlanes(luma, fa, w, h, ink) }
	return m, nil
}

// FullResolution returns the mask at canvas resolution: m itself unless it is a reduced working mask, whose
// full-size counterpart (the mask MaskFromImage gives for the same canvas) is built on the first call.
func (m *Mask) FullResolution() *Mask {
	if m.Factor <= 1 || m.full == nil {
		return m
	}
	f := m.full()
	m.full = func() *Mask { return f }
	return f
}

// SegmentFree is the free segmentation every reader starts from (the recogniser, and training data cut the
// way the recogniser cuts): on a working-resolution mask, digits that touch — or a segmentation that fails — are
// segmented again at full resolution, where cuts are made. It returns the mask the boxes belong to.
func SegmentFree(m *Mask, opt Options, maxCands int) (*Mask, *Candidates, error) {
	free, err := SegmentCandidateBoxes(m, opt, maxCands)
	if m.Factor > 1 && (err != nil || Touching(free.Boxes[0])) {
		m = m.FullResolution()
		free, err = SegmentCandidateBoxes(m, opt, maxCands)
	}
	return m, free, err
}

// Touching reports whether neighbouring digits' boxes (left to right) touch or overlap horizontally: the digits were cut
// apart rather than found apart, and a cut deserves full resolution (on the synthetic pad sets, cutting touching
// digits at half resolution read ~2% fewer of those codes right; separate digits read the same).
func Touching(boxes []image.Rectangle) bool {
	for i := 1; i < len(boxes); i++ {
		if boxes[i-1].Max.X >= boxes[i].Min.X {
			return true
		}
	}
	return false
}

// WorkMaskFromImage is MaskFromImageOpt at working resolution: canvases taller than WorkHeight are reduced by
// WorkFactor first (see Shrinker), so the cost of masking and segmenting stops growing with canvas size. Digit
// boxes found on the mask map back to canvas pixels with Mask.CanvasBox; Mask.FullResolution gives the full-size
// mask when the working one is not enough (digits to cut apart).
func WorkMaskFromImage(img image.Image, opt Options) (*Mask, error) {
	if img == nil {
		return nil, fmt.Errorf("ink: nil image: %w", ErrBadInput)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if WorkFactor(h) == 1 {
		return MaskFromImageOpt(img, opt)
	}
	s, err := NewShrinker(w, h, opt)
	if err != nil {
		return nil, err
	}
	switch im := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			o := im.PixOffset(b.Min.X, b.Min.Y+y)
			s.add(im.Pix[o:o+w], nil)
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			o := im.PixOffset(b.Min.X, b.Min.Y+y)
			_ = s.Row(y, im.Pix[o:o+4*w], RGBA8)
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			o := im.PixOffset(b.Min.X, b.Min.Y+y)
			_ = s.Row(y, im.Pix[o:o+4*w], RGBA8)
		}
	default:
		luma := make([]uint8, w*h)
		alpha := planes(img, luma)
		for y := 0; y < h; y++ {
			var ar []uint8
			if alpha != nil {
				ar = alpha[y*w : (y+1)*w]
			}
			s.add(luma[y*w:(y+1)*w], ar)
		}
	}
	return s.Mask()
}

// CanvasBox maps a box on the mask back to canvas pixels, rounding outwards (identity for a full-size mask).
func (m *Mask) CanvasBox(r image.Rectangle) image.Rectangle {
	if m.Factor <= 1 {
		return r
	}
	k := m.Factor
	return image.Rect(r.Min.X*k, r.Min.Y*k, min(m.CanvasW, r.Max.X*k), min(m.CanvasH, r.Max.Y*k))
}
