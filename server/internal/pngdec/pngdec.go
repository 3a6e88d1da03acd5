// Package pngdec decodes the PNG uploads the server sees most (8-bit grey, grey+alpha, RGB and RGBA, not
// interlaced, no tRNS chunk) without image/png's per-call inflater allocation: image/png builds a new zlib reader
// (about 50 KB of tables and window) for every image, which for a small digit snapshot costs more than the
// decoding itself. A Decoder keeps inflaters in a pool and resets them.
//
// The result is the image image/png returns for the same bytes: the same concrete type (*image.Gray,
// *image.NRGBA, *image.RGBA) and the same pixels. One check is left out: the zlib stream's Adler-32 trailer is
// not verified (its four bytes must be there). The chunk CRC-32s, checked for every chunk, already cover the same
// compressed bytes, and the Adler-32 pass over every inflated byte cost a fifth of decoding a canvas; Chromium's
// PNG decoder (Wuffs) skips it for the same reason. So a file whose chunks are intact but whose Adler-32 is wrong
// decodes to the pixels its stream holds, where image/png reports a checksum error. Anything else — other colour types and depths, interlacing,
// transparency chunks, and every malformed file — is handed to image/png, so errors and unusual images behave
// exactly as with image.Decode.
package pngdec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/klauspost/compress/flate"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"sync"
)

const signature = "\x89PNG\r\n\x1a\n"

// PNG colour types handled by the fast path.
const (
	ctGray      = 0
	ctRGB       = 2
	ctGrayAlpha = 4
	ctRGBA      = 6
)

// maxPooled bounds the scratch buffers a pooled decoder keeps, in bytes.
const maxPooled = 1 << 20

// errFallback sends a file to image/png.
var errFallback = errors.New("pngdec: not on the fast path")

// Is reports whether b starts with the PNG signature.
func Is(b []byte) bool { return len(b) >= len(signature) && string(b[:len(signature)]) == signature }

// Decoder decodes PNG files; it is safe for concurrent use. The zero value is ready to use.
type Decoder struct {
	pool sync.Pool // *state
}

type state struct {
	// zr streams images of more than maxPooled filtered bytes, reset per image (nil until first use):
	// klauspost/compress's inflater (already a dependency of the Prometheus client) takes ~20% fewer instructions
	// than compress/flate, reading straight from the bytes.Reader. Smaller images go through inf into raw.
	zr       io.ReadCloser
	src      bytes.Reader
	idat     []byte // IDAT payloads when a file splits them over several chunks
	cur, prv []byte // filtered rows
	inf      *inflater
	raw      []byte // the inflated stream of a small image (inflater)
}

// header is what IHDR says.
type header struct {
	w, h                   int
	depth, ct, interlace   uint8
	compression, filterMet uint8
}

// File is a PNG file whose chunks have been checked (CRCs, order) and whose pixels can take the fast path.
type File struct {
	hd   header
	b    []byte
	idat []byte // the IDAT payload when the file has a single IDAT chunk
	n    int    // IDAT chunks
}

// Width is the image width from the header.
func (f *File) Width() int { return f.hd.w }

// Height is the image height from the header.
func (f *File) Height() int { return f.hd.h }

// Parse checks the chunk structure of b without decoding pixels (nothing is allocated). ok is false when b is
// not a PNG the fast path handles; decode it with image/png then.
func Parse(b []byte) (f File, ok bool) {
	if !Is(b) {
		return f, false
	}
	f.b = b
	p := b[len(signature):]
	seenIHDR, seenIEND, idatDone := false, false, false
	for !seenIEND {
		if len(p) < 12 {
			return f, false
		}
		n := binary.BigEndian.Uint32(p[:4])
		if n > 0x7fffffff || uint64(n) > uint64(len(p)-12) {
			return f, false
		}
		typ := string(p[4:8])
		data := p[8 : 8+n]
		if crc32.ChecksumIEEE(p[4:8+n]) != binary.BigEndian.Uint32(p[8+n:12+n]) {
			return f, false
		}
		p = p[12+n:]
		switch typ {
		case "IHDR":
			if seenIHDR || n != 13 {
				return f, false
			}
			seenIHDR = true
			f.hd = header{
				w: int(binary.BigEndian.Uint32(data[0:4])), h: int(binary.BigEndian.Uint32(data[4:8])),
				depth: data[8], ct: data[9], compression: data[10], filterMet: data[11], interlace: data[12],
			}
			if !f.hd.supported() {
				return f, false
			}
		case "IDAT":
			if !seenIHDR || idatDone {
				return f, false // out of order, or IDAT runs split by other chunks
			}
			if f.n == 0 {
				f.idat = data
			}
			f.n++
		case "IEND":
			if f.n == 0 || n != 0 {
				return f, false
			}
			seenIEND = true
		case "PLTE", "tRNS":
			return f, false // palettes and transparency keys: image/png's business
		default:
			if !seenIHDR {
				return f, false
			}
			if f.n > 0 {
				idatDone = true
			}
		}
	}
	return f, true
}

// Decode decodes a PNG file: the image png.Decode(bytes.NewReader(b)) returns, and its error.
func (d *Decoder) Decode(b []byte) (image.Image, error) {
	if f, ok := Parse(b); ok {
		return d.DecodeFile(&f)
	}
	return png.Decode(bytes.NewReader(b))
}

// DecodeFile decodes a parsed file; like Decode, it falls back to image/png when the pixel data surprises it.
func (d *Decoder) DecodeFile(f *File) (image.Image, error) {
	st, _ := d.pool.Get().(*state)
	if st == nil {
		st = &state{}
	}
	img, err := st.pixels(f)
	if cap(st.idat) > maxPooled || cap(st.cur) > maxPooled {
		st.idat, st.cur, st.prv = nil, nil, nil // a rare huge upload should not stay resident
	}
	d.pool.Put(st)
	if err != nil {
		return png.Decode(bytes.NewReader(f.b))
	}
	return img, nil
}

// joinIDAT returns the IDAT payloads of f as one slice (f.idat itself when there is one chunk).
func (st *state) joinIDAT(f *File) []byte {
	if f.n == 1 {
		return f.idat
	}
	st.idat = st.idat[:0]
	p := f.b[len(signature):]
	for len(p) >= 12 {
		n := binary.BigEndian.Uint32(p[:4])
		if string(p[4:8]) == "IDAT" {
			st.idat = append(st.idat, p[8:8+n]...)
		}
		p = p[12+n:]
	}
	return st.idat
}

func (h *header) supported() bool {
	if h.depth != 8 || h.interlace != 0 || h.compression != 0 || h.filterMet != 0 || h.w <= 0 || h.h <= 0 {
		return false
	}
	switch h.ct {
	case ctGray, ctRGB, ctGrayAlpha, ctRGBA:
	default:
		return false
	}
	// image/png's own overflow guard: the pixel count and row size must fit comfortably.
	return int64(h.w)*int64(h.h) < 1<<40/8 && h.w < 1<<30/8
}

func (h *header) bpp() int {
	switch h.ct {
	case ctGray:
		return 1
	case ctGrayAlpha:
		return 2
	case ctRGB:
		return 3
	default:
		return 4
	}
}

// Config is the header as image.DecodeConfig reports it for this file: the size and the colour model of the
// image image/png decodes it to.
func (f *File) Config() image.Config {
	m := color.Model(color.NRGBAModel) // grey+alpha and RGBA
	switch f.hd.ct {
	case ctGray:
		m = color.GrayModel
	case ctRGB:
		m = color.RGBAModel
	}
	return image.Config{ColorModel: m, Width: f.hd.w, Height: f.hd.h}
}

// Channels is the number of 8-bit channels per pixel of the rows Rows hands out: 1 grey, 2 grey and alpha,
// 3 RGB, 4 RGBA (straight alpha).
func (f *File) Channels() int { return f.hd.bpp() }

// ErrFallback is returned by Rows when the pixel data is not on the fast path (or is malformed): decode the
// file with image/png (Decode does) to get image/png's image or error.
var ErrFallback = errFallback

// Rows inflates and unfilters f row by row, calling row for each in order with the row's pixels (Width×Channels
// bytes, valid during the call): a caller that reduces or converts rows never holds the image at full size.
// same is true when the row is the previous one again, byte for byte (a blank canvas row filtered Up), so a
// caller can reuse what it made of that one. An error from row stops decoding and is returned.
func (d *Decoder) Rows(f *File, row func(y int, pix []byte, same bool) error) error {
	st, _ := d.pool.Get().(*state)
	if st == nil {
		st = &state{}
	}
	err := st.rows(f, row)
	if cap(st.idat) > maxPooled || cap(st.cur) > maxPooled {
		st.idat, st.cur, st.prv = nil, nil, nil
	}
	d.pool.Put(st)
	return err
}

// rows inflates and unfilters the IDAT stream, handing each row to emit; the stream must end with the last row.
// A stream of at most maxPooled filtered bytes (every canvas a pad sends) is inflated whole into one buffer
// (inflater) and unfiltered in place; a larger one is streamed row by row through klauspost's inflater, so
// its memory stays two rows.
func (st *state) rows(f *File, emit func(y int, pix []byte, same bool) error) error {
	h := &f.hd
	data := st.joinIDAT(f)
	// The zlib wrapper: a 2-byte header (DEFLATE, no preset dictionary) and a 4-byte Adler-32 trailer, which
	// is not verified (see the package comment).
	if len(data) < 2+4 {
		return errFallback
	}
	if cmf, flg := data[0], data[1]; cmf&0x0f != 8 || cmf>>4 > 7 || flg&0x20 != 0 || (uint(cmf)<<8|uint(flg))%31 != 0 {
		return errFallback
	}
	bpp := h.bpp()
	rowLen := 1 + bpp*h.w
	if int64(rowLen)*int64(h.h) > maxPooled {
		return st.streamRows(f, data[2:], emit)
	}
	if st.inf == nil {
		st.inf = new(inflater)
	}
	st.raw = grow(st.raw, rowLen*h.h)
	if err := st.inf.inflate(data[2:], 4, st.raw); err != nil {
		return errFallback
	}
	st.prv = grow(st.prv, rowLen)
	clear(st.prv)
	prv := st.prv // the previous row, unfiltered (zero above the first)
	for y := 0; y < h.h; y++ {
		cur := st.raw[y*rowLen : (y+1)*rowLen : (y+1)*rowLen]
		if err := unfilterRow(cur, prv, bpp); err != nil {
			return err
		}
		same := cur[0] == upRepeat
		if same {
			cur = prv // the row above again
		}
		if err := emit(y, cur[1:], same && y > 0); err != nil { // above the first row: zeros
			return err
		}
		prv = cur
	}
	return nil
}

// upRepeat marks a row unfilterRow found to be the row above again (filter Up, all bytes zero): the row's own
// bytes were left as they were.
const upRepeat = 0xff

// unfilterRow undoes the filter of cur (filter byte first) given the previous row prv (unfiltered, same layout).
// An Up row whose bytes are all zero — blank canvas rows — is left alone and its filter byte set to upRepeat:
// the caller hands out prv instead.
func unfilterRow(cur, prv []byte, bpp int) error {
	if cur[0] != 2 {
		return unfilter(cur[0], cur[1:], prv[1:], bpp)
	}
	// Up adds the row above, byte by byte: where the filtered bytes are zero (a canvas's blank runs, often whole
	// rows) the row above is the result, so it is copied, or handed out again as it is.
	z := zeroPrefix(cur[1:])
	if z == len(cur)-1 {
		cur[0] = upRepeat
		return nil
	}
	copy(cur[1:1+z], prv[1:1+z])
	// Likewise the zero bytes at the end (the paper right of the ink).
	e := len(cur) - zeroSuffix(cur[1+z:])
	copy(cur[e:], prv[e:])
	return unfilter(2, cur[1+z:e], prv[1+z:e], bpp)
}

// zeroSuffix is the length of b's trailing run of zero bytes, counted in whole 32-byte blocks from the end.
func zeroSuffix(b []byte) int {
	n := len(b)
	for ; n >= 32; n -= 32 {
		w := b[n-32 : n : n]
		if binary.LittleEndian.Uint64(w)|binary.LittleEndian.Uint64(w[8:])|binary.LittleEndian.Uint64(w[16:])|
			binary.LittleEndian.Uint64(w[24:]) != 0 {
			break
		}
	}
	return len(b) - n
}

// streamRows is rows for a large image: the stream (zlib header removed) is inflated row by row.
func (st *state) streamRows(f *File, stream []byte, emit func(y int, pix []byte, same bool) error) error {
	h := &f.hd
	st.src.Reset(stream)
	if st.zr == nil {
		st.zr = flate.NewReader(&st.src)
	} else if err := st.zr.(flate.Resetter).Reset(&st.src, nil); err != nil {
		return errFallback
	}
	bpp := h.bpp()
	rowLen := 1 + bpp*h.w
	st.cur = grow(st.cur, rowLen)
	st.prv = grow(st.prv, rowLen)
	clear(st.prv)
	for y := 0; y < h.h; y++ {
		if _, err := io.ReadFull(st.zr, st.cur); err != nil {
			return errFallback
		}
		if err := unfilterRow(st.cur, st.prv, bpp); err != nil {
			return err
		}
		if st.cur[0] == upRepeat {
			if err := emit(y, st.prv[1:], y > 0); err != nil {
				return err
			}
			continue // prv stays the previous row
		}
		if err := emit(y, st.cur[1:], false); err != nil {
			return err
		}
		st.cur, st.prv = st.prv, st.cur
	}
	// The stream must end here, followed by exactly the four trailer bytes.
	var one [1]byte
	if n, err := st.zr.Read(one[:]); n != 0 || err != io.EOF || st.src.Len() != 4 {
		return errFallback
	}
	return nil
}

// pixels inflates and unfilters the IDAT stream into the image type image/png would return.
func (st *state) pixels(f *File) (image.Image, error) {
	h := &f.hd
	var img image.Image
	var pix []byte
	var stride int
	r := image.Rect(0, 0, h.w, h.h)
	switch h.ct {
	case ctGray:
		g := image.NewGray(r)
		img, pix, stride = g, g.Pix, g.Stride
	case ctRGB:
		c := image.NewRGBA(r)
		img, pix, stride = c, c.Pix, c.Stride
	default:
		c := image.NewNRGBA(r)
		img, pix, stride = c, c.Pix, c.Stride
	}
	rowPix := 4 * h.w // bytes of one image row
	if h.ct == ctGray {
		rowPix = h.w
	}
	err := st.rows(f, func(y int, cdat []byte, same bool) error {
		dst := pix[y*stride : y*stride+rowPix]
		if same {
			copy(dst, pix[(y-1)*stride:])
			return nil
		}
		switch h.ct {
		case ctGray, ctRGBA:
			copy(dst, cdat)
		case ctGrayAlpha:
			for x := 0; x < h.w; x++ {
				g, a := cdat[2*x], cdat[2*x+1]
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = g, g, g, a
			}
		case ctRGB:
			for x := 0; x < h.w; x++ {
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = cdat[3*x], cdat[3*x+1], cdat[3*x+2], 0xff
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// zeroPrefix is the length of b's leading run of zero bytes, counted in whole 32-byte blocks (len(b) when b is
// all zero): four words are loaded and tested at once.
func zeroPrefix(b []byte) int {
	i := 0
	for ; i+32 <= len(b); i += 32 {
		w := b[i : i+32 : i+32]
		if binary.LittleEndian.Uint64(w)|binary.LittleEndian.Uint64(w[8:])|binary.LittleEndian.Uint64(w[16:])|
			binary.LittleEndian.Uint64(w[24:]) != 0 {
			return i
		}
	}
	for _, v := range b[i:] {
		if v != 0 {
			return i
		}
	}
	return len(b)
}

// unfilter undoes a row's PNG filter in place; prev is the previous row, already unfiltered (zero for the first).
func unfilter(filter byte, cdat, pdat []byte, bpp int) error {
	switch filter {
	case 0:
	case 1: // Sub
		sub(cdat, bpp)
	case 2: // Up: bytewise sums, eight at a time (no carries between bytes)
		n := min(len(cdat), len(pdat))
		c, p := cdat[:n], pdat[:n]
		const hi = 0x8080808080808080
		// Blocks of 32 zero bytes (blank paper beside the ink) are the row above, copied.
		for len(c) >= 32 && len(p) >= 32 {
			c4, p4 := c[:32:32], p[:32:32]
			a0, a1, a2, a3 := binary.LittleEndian.Uint64(c4), binary.LittleEndian.Uint64(c4[8:]),
				binary.LittleEndian.Uint64(c4[16:]), binary.LittleEndian.Uint64(c4[24:])
			b0, b1, b2, b3 := binary.LittleEndian.Uint64(p4), binary.LittleEndian.Uint64(p4[8:]),
				binary.LittleEndian.Uint64(p4[16:]), binary.LittleEndian.Uint64(p4[24:])
			if a0|a1|a2|a3 != 0 {
				b0 = (a0&^hi + b0&^hi) ^ ((a0 ^ b0) & hi)
				b1 = (a1&^hi + b1&^hi) ^ ((a1 ^ b1) & hi)
				b2 = (a2&^hi + b2&^hi) ^ ((a2 ^ b2) & hi)
				b3 = (a3&^hi + b3&^hi) ^ ((a3 ^ b3) & hi)
			}
			binary.LittleEndian.PutUint64(c4, b0)
			binary.LittleEndian.PutUint64(c4[8:], b1)
			binary.LittleEndian.PutUint64(c4[16:], b2)
			binary.LittleEndian.PutUint64(c4[24:], b3)
			c, p = c[32:], p[32:]
		}
		for len(c) >= 8 && len(p) >= 8 {
			a, b := binary.LittleEndian.Uint64(c), binary.LittleEndian.Uint64(p)
			binary.LittleEndian.PutUint64(c, (a&^hi+b&^hi)^((a^b)&hi))
			c, p = c[8:], p[8:]
		}
		for i := 0; i < len(c) && i < len(p); i++ {
			c[i] += p[i]
		}
	case 3: // Average
		for i := 0; i < bpp; i++ {
			cdat[i] += pdat[i] / 2
		}
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += uint8((int(cdat[i-bpp]) + int(pdat[i])) / 2)
		}
	case 4: // Paeth
		paeth(cdat, pdat, bpp)
	default:
		return errFallback
	}
	return nil
}

// sub undoes the Sub filter: each byte adds the byte bpp before it; a pixel's channels are carried in
// registers rather than re-read.
func sub(cdat []byte, bpp int) {
	switch {
	case bpp == 3 && len(cdat) >= 3:
		a0, a1, a2 := cdat[0], cdat[1], cdat[2]
		i := 3
		// Eight pixels at a time: a block of zero bytes (a run of one colour, most of a canvas) repeats the
		// pixel before it, written from a pattern of three words built once per colour.
		var p0, p1, p2 uint64
		var patPix uint32 = 1 << 24 // the colour of the pattern (none yet)
		for ; i+24 <= len(cdat); i += 24 {
			w := cdat[i : i+24 : i+24]
			if binary.LittleEndian.Uint64(w)|binary.LittleEndian.Uint64(w[8:])|binary.LittleEndian.Uint64(w[16:]) == 0 {
				if px := uint32(a0) | uint32(a1)<<8 | uint32(a2)<<16; px != patPix {
					var pat [24]byte
					for k := 0; k < 24; k += 3 {
						pat[k], pat[k+1], pat[k+2] = a0, a1, a2
					}
					p0, p1, p2 = binary.LittleEndian.Uint64(pat[:]), binary.LittleEndian.Uint64(pat[8:]),
						binary.LittleEndian.Uint64(pat[16:])
					patPix = px
				}
				binary.LittleEndian.PutUint64(w, p0)
				binary.LittleEndian.PutUint64(w[8:], p1)
				binary.LittleEndian.PutUint64(w[16:], p2)
				continue
			}
			for k := 0; k < 24; k += 3 {
				a0, a1, a2 = a0+w[k], a1+w[k+1], a2+w[k+2]
				w[k], w[k+1], w[k+2] = a0, a1, a2
			}
		}
		for ; i+3 <= len(cdat); i += 3 {
			p := cdat[i : i+3 : i+3]
			a0, a1, a2 = a0+p[0], a1+p[1], a2+p[2]
			p[0], p[1], p[2] = a0, a1, a2
		}
	case bpp == 4 && len(cdat) >= 4:
		a := binary.LittleEndian.Uint32(cdat)
		for i := 4; i+4 <= len(cdat); i += 4 {
			b := binary.LittleEndian.Uint32(cdat[i:])
			const hi = 0x80808080
			a = (a&^hi + b&^hi) ^ ((a ^ b) & hi)
			binary.LittleEndian.PutUint32(cdat[i:], a)
		}
	default:
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += cdat[i-bpp]
		}
	}
}

func paeth(cdat, pdat []byte, bpp int) {
	switch bpp {
	case 1:
		paeth1(cdat, pdat)
		return
	case 3:
		paeth3(cdat, pdat)
		return
	}
	var a, b, c, pa, pb, pc int
	for i := 0; i < bpp; i++ {
		a, c = 0, 0
		for j := i; j < len(cdat); j += bpp {
			b = int(pdat[j])
			pa = b - c
			pb = a - c
			pc = abs(pa + pb)
			pa = abs(pa)
			pb = abs(pb)
			if pa <= pb && pa <= pc {
				// a stays
			} else if pb <= pc {
				a = b
			} else {
				a = c
			}
			a += int(cdat[j])
			a &= 0xff
			cdat[j] = uint8(a)
			c = b
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// paeth1 is paeth for grey rows, the left and up-left bytes in registers. Where left, up-left and up are one
// grey and the differences are zero (blank paper, an MNIST digit's background), the predictor is that grey: a
// block of eight such bytes is written as one word.
func paeth1(cdat, pdat []byte) {
	n := min(len(cdat), len(pdat))
	cdat, pdat = cdat[:n], pdat[:n]
	var a, c int // left and up-left, zero before the first byte
	for i := 0; i < n; {
		if a == c && i+8 <= n {
			w, u := cdat[i:i+8:i+8], pdat[i:i+8:i+8]
			if pat := uint64(a) * 0x0101010101010101; binary.LittleEndian.Uint64(w) == 0 &&
				binary.LittleEndian.Uint64(u) == pat {
				binary.LittleEndian.PutUint64(w, pat)
				i += 8 // left and up-left stay that grey
				continue
			}
		}
		b := int(pdat[i])
		a = (paethPredict(a, b, c) + int(cdat[i])) & 0xff
		cdat[i] = uint8(a)
		c = b
		i++
	}
}

// paeth3 is paeth for RGB rows, a pixel at a time with the left and up-left pixels in registers. Where the
// left, up-left and up pixels are one colour and the differences are zero (blank paper), the predictor is that
// colour: a block of eight such pixels is written from a pattern of three words.
func paeth3(cdat, pdat []byte) {
	n := min(len(cdat), len(pdat)) / 3 * 3
	cdat, pdat = cdat[:n], pdat[:n]
	var a0, a1, a2, c0, c1, c2 int // left and up-left, zero before the first pixel
	var p0, p1, p2 uint64
	patPix := -1 // the colour of the pattern (none yet)
	for i := 0; i+3 <= n; {
		if a0 == c0 && a1 == c1 && a2 == c2 && i+24 <= n {
			w, u := cdat[i:i+24:i+24], pdat[i:i+24:i+24]
			if binary.LittleEndian.Uint64(w)|binary.LittleEndian.Uint64(w[8:])|binary.LittleEndian.Uint64(w[16:]) == 0 {
				if px := a0 | a1<<8 | a2<<16; px != patPix {
					var pat [24]byte
					for k := 0; k < 24; k += 3 {
						pat[k], pat[k+1], pat[k+2] = byte(a0), byte(a1), byte(a2)
					}
					p0, p1, p2 = binary.LittleEndian.Uint64(pat[:]), binary.LittleEndian.Uint64(pat[8:]),
						binary.LittleEndian.Uint64(pat[16:])
					patPix = px
				}
				if binary.LittleEndian.Uint64(u) == p0 && binary.LittleEndian.Uint64(u[8:]) == p1 &&
					binary.LittleEndian.Uint64(u[16:]) == p2 {
					binary.LittleEndian.PutUint64(w, p0)
					binary.LittleEndian.PutUint64(w[8:], p1)
					binary.LittleEndian.PutUint64(w[16:], p2)
					i += 24 // left and up-left stay that colour
					continue
				}
			}
		}
		q, u := cdat[i:i+3:i+3], pdat[i:i+3:i+3]
		b0, b1, b2 := int(u[0]), int(u[1]), int(u[2])
		a0 = (paethPredict(a0, b0, c0) + int(q[0])) & 0xff
		a1 = (paethPredict(a1, b1, c1) + int(q[1])) & 0xff
		a2 = (paethPredict(a2, b2, c2) + int(q[2])) & 0xff
		q[0], q[1], q[2] = uint8(a0), uint8(a1), uint8(a2)
		c0, c1, c2 = b0, b1, b2
		i += 3
	}
}

// paethPredict is the Paeth predictor of one byte from its left (a), up (b) and up-left (c) neighbours.
func paethPredict(a, b, c int) int {
	pa, pb := b-c, a-c
	pc := abs(pa + pb)
	pa, pb = abs(pa), abs(pb)
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}
