package pngdec

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// errInflate is any DEFLATE stream the whole-buffer inflater does not take to its exact end: a malformed stream,
// or one that makes more or fewer bytes than the buffer holds. The file then goes to image/png.
var errInflate = errors.New("pngdec: inflate")

// fastBits is the width of a Huffman table's direct lookup; longer codes (rare: a canvas's symbols are few) are
// decoded canonically, bit by bit.
const fastBits = 10

// huffman is one canonical Huffman code of a DEFLATE block.
type huffman struct {
	// fast maps the next fastBits input bits (least significant first) to the entry of the code there, for
	// codes up to fastBits long: what the symbol means (see entries) | code length; 0: the code is longer (or
	// not in the code).
	fast  [1 << fastBits]uint32
	count [16]uint16  // codes of each length
	sym   [288]uint16 // symbols ordered by code (canonical order)
}

// A direct-table entry says what its symbol means, so the decoding loop needs no second lookup: bits 0-5 are
// the code length, bits 16-31 a value, and one flag says what the value is.
const (
	eLit  = 1 << 15 // a literal byte (value)
	eBase = 1 << 14 // a match length or distance: value is the base, bits 8-11 the extra bits that follow
	eEnd  = 1 << 13 // end of block
	eBad  = 1 << 12 // a symbol no stream may use (lengths 286, 287; distances 30, 31)
)

// Entries without code length of each alphabet: literal/length, distance, and plain symbols (code lengths).
var (
	litLenEntries = func() (t [288]uint32) {
		for s := range t {
			switch {
			case s < 256:
				t[s] = uint32(s)<<16 | eLit
			case s == 256:
				t[s] = eEnd
			case s-257 < len(lenBase):
				t[s] = uint32(lenBase[s-257])<<16 | uint32(lenExtra[s-257])<<8 | eBase
			default:
				t[s] = eBad
			}
		}
		return t
	}()
	distEntries = func() (t [32]uint32) {
		for s := range t {
			t[s] = eBad
			if s < len(distBase) {
				t[s] = uint32(distBase[s])<<16 | uint32(distExtr[s])<<8 | eBase
			}
		}
		return t
	}()
	plainEntries = func() (t [19]uint32) {
		for s := range t {
			t[s] = uint32(s) << 16
		}
		return t
	}()
)

// build sets up the code whose code lengths per symbol are lengths, with the direct-table entries ent (one per
// symbol, as many as lengths, without code length). It accepts what compress/flate accepts: a
// complete code, a single code of length one, or no code at all (an unused distance code; decoding with it
// fails).
func (h *huffman) build(lengths []uint8, ent []uint32) bool {
	ent = ent[:len(lengths)]
	h.count = [16]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left, n := 1, 0
	for l := 1; l < 16; l++ {
		left = left<<1 - int(h.count[l])
		n += int(h.count[l])
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left > 0 && n > 0 && !(n == 1 && h.count[1] == 1) {
		return false // incomplete
	}
	// Symbols in canonical order: by code length, then by symbol.
	var offs [16]int
	for l := 1; l < 16; l++ {
		offs[l] = offs[l-1] + int(h.count[l-1])
	}
	for s, l := range lengths {
		if l != 0 {
			h.sym[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	// The direct table is built length by length: the entries of the codes of length l go into the first 2^l
	// entries (index: the code's bits in reading order), then that part is copied once to double it, since a
	// code of length l leaves the next bit free. Each code is written once and the copies are memmoves, where
	// writing every replica of a short code cost a 280×280 canvas ~44 k instructions per image.
	h.fast[0], h.fast[1] = 0, 0
	code, i := 0, 0
	for l := 1; l <= fastBits; l++ {
		for range h.count[l] {
			h.fast[bits.Reverse16(uint16(code))>>(16-l)] = ent[h.sym[i]] | uint32(l)
			code++
			i++
		}
		code <<= 1
		if l < fastBits {
			copy(h.fast[1<<l:2<<l], h.fast[:1<<l])
		}
	}
	return true
}

// inflater decodes one raw DEFLATE stream into a buffer of the exact size it must fill (a PNG's filtered rows:
// height × (1 + row bytes)). Matches are copied within that buffer, so there is no window to copy out of, and
// runs of one byte or one row (a canvas's blank paper) cost one copy each.
type inflater struct {
	in    []byte
	pos   int    // next byte of in to load (past len(in): zero bytes were loaded)
	bits  uint64 // loaded bits, next first
	nb    uint   // how many
	lit   huffman
	dist  huffman
	fixed bool            // lit and dist hold the fixed codes
	lens  [288 + 32]uint8 // code lengths of a block (literal/length, then distance)
}

// refill loads bytes until at least 56 bits are buffered; past the end of the input it loads zeros (the caller
// checks where the stream ended). Not inlined: it runs once per several symbols, and decode and getbits stay
// small enough to be inlined.
//
//go:noinline
func (f *inflater) refill() {
	if f.pos+8 <= len(f.in) {
		f.bits |= binary.LittleEndian.Uint64(f.in[f.pos:]) << f.nb
		f.pos += int(63-f.nb) >> 3
		f.nb |= 56
		return
	}
	for f.nb <= 56 {
		if f.pos < len(f.in) {
			f.bits |= uint64(f.in[f.pos]) << f.nb
		}
		f.pos++
		f.nb += 8
	}
}

// getbits reads n ≤ 16 bits.
func (f *inflater) getbits(n uint) int {
	if f.nb < n {
		f.refill()
	}
	v := int(f.bits & (1<<n - 1))
	f.bits >>= n
	f.nb -= n
	return v
}

// decode reads one symbol of h; -1 when the bits are no code of h.
func (f *inflater) decode(h *huffman) int {
	if f.nb < 15 {
		f.refill()
	}
	if e := h.fast[f.bits&(1<<fastBits-1)]; e != 0 {
		n := uint(e & 63)
		f.bits >>= n
		f.nb -= n
		return int(e >> 16)
	}
	return f.decodeSlow(h)
}

// decodeSlow decodes a code longer than fastBits (or none), bit by bit; at least 15 bits are buffered.
//
//go:noinline
func (f *inflater) decodeSlow(h *huffman) int {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		code |= int(f.bits & 1)
		f.bits >>= 1
		f.nb--
		count := int(h.count[l])
		if code-first < count {
			return int(h.sym[index+code-first])
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return -1
}

// Base values and extra bits of length symbols 257..285 and distance symbols 0..29 (RFC 1951, 3.2.5).
var (
	lenBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtr = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// clOrder is the order code length code lengths are sent in.
	clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// inflate decodes the DEFLATE stream in (followed by trailer more bytes, which it must end exactly before) into
// out, which it must fill exactly.
func (f *inflater) inflate(in []byte, trailer int, out []byte) error {
	f.in, f.pos, f.bits, f.nb = in, 0, 0, 0
	o := 0
	for {
		final := f.getbits(1)
		typ := f.getbits(2)
		switch typ {
		case 0:
			// Stored: the rest of the current byte is skipped, then LEN, NLEN and LEN bytes.
			f.pos -= int(f.nb >> 3)
			f.bits, f.nb = 0, 0
			if f.pos+4 > len(f.in) {
				return errInflate
			}
			n := int(binary.LittleEndian.Uint16(f.in[f.pos:]))
			if uint16(n) != ^binary.LittleEndian.Uint16(f.in[f.pos+2:]) || f.pos+4+n > len(f.in) || n > len(out)-o {
				return errInflate
			}
			o += copy(out[o:], f.in[f.pos+4:f.pos+4+n])
			f.pos += 4 + n
		case 1:
			if !f.fixed {
				l := f.lens[:]
				for i := range 288 {
					l[i] = [...]uint8{8, 9, 7, 8}[min(i/144, 1)+min(i/256, 1)+min(i/280, 1)]
				}
				for i := 288; i < 288+32; i++ {
					l[i] = 5
				}
				f.lit.build(l[:288], litLenEntries[:])
				f.dist.build(l[288:], distEntries[:])
				f.fixed = true
			}
		case 2:
			f.fixed = false
			if !f.dynamic() {
				return errInflate
			}
		default:
			return errInflate
		}
		if typ != 0 {
			var err error
			if o, err = f.codes(out, o); err != nil {
				return err
			}
		}
		if final == 1 {
			break
		}
	}
	// The stream ends within the byte that holds its last bit; exactly the trailer follows.
	if o != len(out) || f.pos-int(f.nb>>3) != len(f.in)-trailer {
		return errInflate
	}
	return nil
}

// dynamic reads a block's code lengths and builds its codes.
func (f *inflater) dynamic() bool {
	nlit, ndist, nclen := f.getbits(5)+257, f.getbits(5)+1, f.getbits(4)+4
	if nlit > 286 || ndist > 30 {
		return false
	}
	var cl [19]uint8
	for i := range nclen {
		cl[clOrder[i]] = uint8(f.getbits(3))
	}
	if !f.lit.build(cl[:], plainEntries[:]) { // the code length code, in lit for the moment
		return false
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		s := f.decode(&f.lit)
		var v uint8
		var rep int
		switch {
		case s < 0:
			return false
		case s < 16:
			lens[i] = uint8(s)
			i++
			continue
		case s == 16:
			if i == 0 {
				return false
			}
			v, rep = lens[i-1], 3+f.getbits(2)
		case s == 17:
			rep = 3 + f.getbits(3)
		default:
			rep = 11 + f.getbits(7)
		}
		if i+rep > len(lens) {
			return false
		}
		for j := range rep {
			lens[i+j] = v
		}
		i += rep
	}
	if lens[256] == 0 { // no end-of-block code
		return false
	}
	return f.lit.build(lens[:nlit], litLenEntries[:]) && f.dist.build(lens[nlit:], distEntries[:])
}

// codes decodes one compressed block's symbols into out from o on and returns where it stopped. The bit
// buffer and the input position live in locals. At least 15 bits (any one code) are buffered whenever a symbol
// is looked up, and a match refills to 48 before its length, enough for the whole length/distance pair; so a
// run of literals refills about once in five. A direct-table entry carries the symbol's meaning (a literal
// byte, or a length's base and extra bits), so a symbol costs one lookup; the next symbol's entry is looked up
// at the end of each step, where the loop starts again.
func (f *inflater) codes(out []byte, o int) (int, error) {
	bits, nb, pos := f.bits, f.nb, f.pos
	lit, dist := &f.lit.fast, &f.dist.fast
	in := f.in
	// Refill to at least 56 bits when fewer than want are left (refill's common case, inlined; past the end
	// of the input, refill loads zeros).
	fill := func(want uint) {
		if nb < want {
			if pos+8 <= len(in) {
				bits |= binary.LittleEndian.Uint64(in[pos:]) << nb
				pos += int(63-nb) >> 3
				nb |= 56
			} else {
				f.bits, f.nb, f.pos = bits, nb, pos
				f.refill()
				bits, nb, pos = f.bits, f.nb, f.pos
			}
		}
	}
	fill(48)
	e := lit[bits&(1<<fastBits-1)]
	for {
		if e&eLit != 0 {
			if o >= len(out) {
				return o, errInflate
			}
			out[o] = byte(e >> 16)
			o++
			bits >>= e & 63
			nb -= uint(e & 63)
			fill(15) // enough for any one code; a match refills before its length
			e = lit[bits&(1<<fastBits-1)]
			continue
		}
		if e&eBase == 0 {
			switch {
			case e&eEnd != 0:
				bits >>= e & 63
				nb -= uint(e & 63)
				f.bits, f.nb, f.pos = bits, nb, pos
				return o, nil
			case e != 0:
				return o, errInflate
			}
			// A code longer than the direct table: decoded bit by bit, then taken as its entry would be.
			f.bits, f.nb = bits, nb
			s := f.decodeSlow(&f.lit)
			bits, nb = f.bits, f.nb
			if s < 0 {
				return o, errInflate
			}
			e = litLenEntries[s]
			continue
		}
		// A match: length, then distance, each a base and extra bits, at most 48 bits in all.
		fill(48)
		bits >>= e & 63
		nb -= uint(e & 63)
		x := uint(e>>8) & 15
		n := int(e>>16) + int(bits&(1<<x-1))
		bits >>= x
		nb -= x
		e = dist[bits&(1<<fastBits-1)]
		if e == 0 {
			f.bits, f.nb = bits, nb
			s := f.decodeSlow(&f.dist)
			bits, nb = f.bits, f.nb
			if s < 0 {
				return o, errInflate
			}
			e = distEntries[s]
		}
		if e&eBase == 0 {
			return o, errInflate
		}
		bits >>= e & 63
		nb -= uint(e & 63)
		x = uint(e>>8) & 15
		d := int(e>>16) + int(bits&(1<<x-1))
		bits >>= x
		nb -= x
		if d > o || n > len(out)-o {
			return o, errInflate
		}
		end := o + n
		switch {
		case d >= n:
			copy(out[o:end], out[o-d:o])
		case d == 1 && out[o-1] == 0: // a run of zero bytes: blank canvas, filtered
			clear(out[o:end])
		case d == 1 && out[o-1] == 0xff: // white paper, unfiltered: one copy (repeat took ~6× the instructions)
			copy(out[o:end], whiteRun[:])
		default:
			repeat(out[:end], o, d)
		}
		o = end
		fill(15)
		e = lit[bits&(1<<fastBits-1)]
	}
}

// whiteRun is the longest match (258 bytes) of 0xff; never written.
var whiteRun = func() (w [258]byte) {
	for i := range w {
		w[i] = 0xff
	}
	return w
}()

// repeat fills b[o:] with the d bytes before it repeated (an overlapping match, d < len(b)-o), eight bytes at a
// time once the bytes copied from are eight back or more.
func repeat(b []byte, o, d int) {
	i := o
	if d < 8 {
		// The first bytes one by one, until a multiple of d that is at least 8 is behind.
		k := d * ((8 + d - 1) / d)
		for lim := min(o+k, len(b)); i < lim; i++ {
			b[i] = b[i-d]
		}
		d = k
	}
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:i+8], binary.LittleEndian.Uint64(b[i-d:i-d+8]))
	}
	for ; i < len(b); i++ {
		b[i] = b[i-d]
	}
}
