package pngdec

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

// The whole-buffer inflater gives compress/flate's bytes for streams of every compression level (stored,
// Huffman only, fixed and dynamic codes, long and overlapping matches), and refuses a buffer of the wrong size,
// a missing or extra trailer and any truncation.
func TestInflate_MatchesCompressFlate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var f inflater
	for i := range 400 {
		n := rng.IntN(5000)
		if i%10 == 0 {
			n = rng.IntN(200000)
		}
		raw := make([]byte, n)
		for j := range raw {
			switch {
			case rng.IntN(3) == 0:
				raw[j] = byte(rng.IntN(256))
			case j >= 7 && rng.IntN(2) == 0:
				raw[j] = raw[j-7]
			}
		}
		level := []int{flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly}[i%5]
		var z bytes.Buffer
		zw, _ := flate.NewWriter(&z, level)
		zw.Write(raw)
		zw.Close()
		stream := append(z.Bytes(), 1, 2, 3, 4)
		out := make([]byte, n)
		if err := f.inflate(stream, 4, out); err != nil || !bytes.Equal(out, raw) {
			t.Fatalf("stream %d (level %d, %d bytes): %v, or bytes differ", i, level, n, err)
		}
		if err := f.inflate(stream, 4, make([]byte, n+1)); err == nil {
			t.Fatalf("stream %d: a buffer one byte too long was filled", i)
		}
		if n > 0 {
			if err := f.inflate(stream, 4, make([]byte, n-1)); err == nil {
				t.Fatalf("stream %d: a buffer one byte too short was accepted", i)
			}
		}
		if err := f.inflate(stream, 3, out); err == nil {
			t.Fatalf("stream %d: accepted with a trailer byte too many", i)
		}
		if err := f.inflate(stream[:len(stream)-4], 0, out); err != nil {
			t.Fatalf("stream %d without trailer: %v", i, err)
		}
		if err := f.inflate(stream[:rng.IntN(len(stream)-4)], 0, out); err == nil && n > 0 {
			t.Fatalf("stream %d: truncated stream accepted", i)
		}
	}
}

// FuzzInflate: on any bytes, the whole-buffer inflater agrees with compress/flate: the same bytes when
// compress/flate reads the stream to its exact end, an error when compress/flate fails.
func FuzzInflate(f *testing.F) {
	for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.BestCompression, flate.HuffmanOnly} {
		var z bytes.Buffer
		zw, _ := flate.NewWriter(&z, level)
		zw.Write(bytes.Repeat([]byte("canvas\x00\x00\x00\x00\xff"), 50))
		zw.Close()
		f.Add(z.Bytes())
	}
	var inf inflater
	f.Fuzz(func(t *testing.T, b []byte) {
		src := bytes.NewReader(b)
		want, werr := io.ReadAll(io.LimitReader(flate.NewReader(src), 1<<20))
		if len(want) == 1<<20 {
			return
		}
		out := make([]byte, len(want))
		gerr := inf.inflate(b, 0, out)
		switch {
		case werr == nil && src.Len() == 0 && (gerr != nil || !bytes.Equal(out, want)):
			t.Fatalf("compress/flate reads %d bytes to the end; inflate: %v", len(want), gerr)
		case werr != nil && gerr == nil:
			t.Fatalf("compress/flate fails (%v) after %d bytes; inflate took the stream", werr, len(want))
		}
	})
}

// Runs — of zero bytes, of 0xff, of any byte, and patterns of period 2 to 9 (a pixel repeated), long and short,
// next to literals, in blocks that end anywhere — inflate as compress/flate inflates them: the run-length
// matches and runs of literals each have a shortcut.
func TestInflate_RunsMatchCompressFlate(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var f inflater
	for i := range 300 {
		var raw []byte
		for len(raw) < 20000 {
			n := 1 + rng.IntN(600)
			switch rng.IntN(5) {
			case 0:
				raw = append(raw, make([]byte, n)...)
			case 1:
				raw = append(raw, bytes.Repeat([]byte{0xff}, n)...)
			case 2:
				raw = append(raw, bytes.Repeat([]byte{byte(rng.IntN(256))}, n)...)
			case 3:
				p := make([]byte, 2+rng.IntN(8))
				for j := range p {
					p[j] = byte(rng.IntN(256))
				}
				raw = append(raw, bytes.Repeat(p, n/len(p)+1)...)
			default:
				for range n % 40 {
					raw = append(raw, byte(rng.IntN(256)))
				}
			}
		}
		var z bytes.Buffer
		zw, _ := flate.NewWriter(&z, []int{flate.BestSpeed, flate.DefaultCompression, flate.BestCompression}[i%3])
		// In pieces, some ended by a flush: blocks end mid-stream, after literals or matches.
		for p := raw; len(p) > 0; {
			n := min(len(p), 1+rng.IntN(3000))
			zw.Write(p[:n])
			if rng.IntN(2) == 0 {
				zw.Flush()
			}
			p = p[n:]
		}
		zw.Close()
		out := make([]byte, len(raw))
		if err := f.inflate(z.Bytes(), 0, out); err != nil || !bytes.Equal(out, raw) {
			t.Fatalf("stream %d (%d bytes): %v, or bytes differ", i, len(raw), err)
		}
	}
}

// Symbols no stream may use — lengths 286 and 287, distances 30 and 31, all of which the fixed codes have — fail
// the stream, as in compress/flate, whether the code is looked up in the direct table or decoded bit by bit.
func TestInflate_ReservedSymbolsRefused(t *testing.T) {
	// fixed writes a final block with fixed codes: a literal 'a', then the length symbol ls and the distance
	// symbol ds (ls only when ds < 0), then end of block.
	fixed := func(ls, ds int) []byte {
		var b []byte
		var acc uint64
		var n uint
		put := func(v uint64, bits uint) { // LSB first
			acc |= v << n
			n += bits
			for n >= 8 {
				b = append(b, byte(acc))
				acc >>= 8
				n -= 8
			}
		}
		code := func(c uint64, bits uint) { // Huffman codes go most significant bit first
			for i := int(bits) - 1; i >= 0; i-- {
				put(c>>uint(i)&1, 1)
			}
		}
		put(1, 1) // final
		put(1, 2) // fixed codes
		code(0x30+'a', 8)
		if ls < 280 {
			code(uint64(ls-256), 7)
		} else {
			code(uint64(0xc0+ls-280), 8)
		}
		if ds >= 0 {
			code(uint64(ds), 5)
		}
		code(0, 7) // end of block
		put(0, 7)
		return b
	}
	for _, c := range []struct{ ls, ds int }{{286, -1}, {287, -1}, {257, 30}, {257, 31}} {
		stream := fixed(c.ls, c.ds)
		if _, err := io.ReadAll(flate.NewReader(bytes.NewReader(stream))); err == nil {
			t.Fatalf("length %d distance %d: compress/flate reads the stream; the test writes it wrong", c.ls, c.ds)
		}
		for _, size := range []int{1, 4, 100} {
			if err := new(inflater).inflate(stream, 0, make([]byte, size)); err == nil {
				t.Errorf("length %d distance %d, %d-byte buffer: stream accepted", c.ls, c.ds, size)
			}
		}
	}
	// The same stream with a valid pair decodes ('a' four times): the writer above is right.
	out := make([]byte, 4)
	if err := new(inflater).inflate(fixed(257, 0), 0, out); err != nil || string(out) != "aaaa" {
		t.Fatalf("valid fixed stream: %v, %q", err, out)
	}
}
