package pngdec

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func chunk(typ string, data []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// craft builds a PNG of colour type ct from random filtered rows (every filter type; any bytes unfilter to some
// image), its IDAT stream split into parts chunks, with an ancillary chunk before and after the pixels.
func craft(rng *rand.Rand, w, h int, ct uint8, parts int) []byte {
	bpp := map[uint8]int{0: 1, 2: 3, 4: 2, 6: 4}[ct]
	var raw []byte
	for range h {
		switch rng.IntN(6) {
		case 0: // the row above again (Up, nothing added), as blank canvas rows are encoded
			raw = append(raw, 2)
			raw = append(raw, make([]byte, w*bpp)...)
			continue
		case 1: // one colour, then runs of zero bytes broken by a few others (Sub: runs repeat the pixel before)
			raw = append(raw, byte(rng.IntN(5)))
			for x := range w * bpp {
				v := byte(0)
				if x < bpp || rng.IntN(40) == 0 {
					v = byte(rng.IntN(256))
				}
				raw = append(raw, v)
			}
			continue
		}
		raw = append(raw, byte(rng.IntN(5)))
		for range w * bpp {
			// Mostly flat rows, as in real snapshots, with some noise.
			v := byte(0)
			if rng.IntN(4) == 0 {
				v = byte(rng.IntN(256))
			}
			raw = append(raw, v)
		}
	}
	return file(w, h, ct, raw, parts)
}

// file wraps filtered rows raw (filter byte first) in a PNG of colour type ct, the zlib stream split into parts
// IDAT chunks, with an ancillary chunk before and after the pixels.
func file(w, h int, ct uint8, raw []byte, parts int) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, ct, 0, 0, 0)
	out := []byte(signature)
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("tEXt", []byte("Software\x00test"))...)
	zb := z.Bytes()
	for i := range parts {
		out = append(out, chunk("IDAT", zb[i*len(zb)/parts:(i+1)*len(zb)/parts])...)
	}
	out = append(out, chunk("tIME", []byte{7, 234, 1, 2, 3, 4, 5})...)
	return append(out, chunk("IEND", nil)...)
}

// same checks that Decode agrees with image/png on b: the same image (type and pixels) or the same error.
// The one difference: a wrong zlib Adler-32 (chunk CRCs intact) decodes to the pixels of the stream, which are
// image/png's image for the file with the right checksum.
func same(t *testing.T, d *Decoder, b []byte, what string) {
	t.Helper()
	if f, ok := Parse(b); ok {
		if cfg, err := png.DecodeConfig(bytes.NewReader(b)); err == nil && cfg != f.Config() {
			t.Fatalf("%s: Config %+v, image/png says %+v", what, f.Config(), cfg)
		}
	}
	want, werr := png.Decode(bytes.NewReader(b))
	got, gerr := d.Decode(b)
	if gerr == nil && badAdler(werr) {
		if fixed, ok := fixAdler(b); ok {
			want, werr = png.Decode(bytes.NewReader(fixed))
		}
	}
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%s: error %v, image/png says %v", what, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: image differs from image/png's (%T vs %T)", what, got, want)
	}
}

func badAdler(err error) bool {
	return err != nil && strings.Contains(err.Error(), zlib.ErrChecksum.Error())
}

// fixAdler returns b with the Adler-32 of its zlib stream set to the right value (and its IDAT CRCs updated);
// ok is false when the stream does not inflate.
func fixAdler(b []byte) ([]byte, bool) {
	b = bytes.Clone(b)
	var stream []byte
	var where []int // file offset of each stream byte
	var chunks []int
	for p := len(signature); p+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[p:]))
		if p+12+n > len(b) {
			return nil, false
		}
		if string(b[p+4:p+8]) == "IDAT" {
			chunks = append(chunks, p)
			for i := range n {
				stream = append(stream, b[p+8+i])
				where = append(where, p+8+i)
			}
		}
		p += 12 + n
	}
	if len(stream) < 6 {
		return nil, false
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(stream[2 : len(stream)-4])))
	if err != nil {
		return nil, false
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], adler32.Checksum(raw))
	for i, v := range sum {
		b[where[len(where)-4+i]] = v
	}
	for _, p := range chunks {
		n := int(binary.BigEndian.Uint32(b[p:]))
		binary.BigEndian.PutUint32(b[p+8+n:], crc32.ChecksumIEEE(b[p+4:p+8+n]))
	}
	return b, true
}

// A wrong Adler-32 with intact chunks is not checked: the image is the stream's (image/png refuses the file).
func TestDecode_AdlerNotChecked(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var d Decoder
	for i := range 20 {
		b := craft(rng, 1+rng.IntN(50), 1+rng.IntN(50), []uint8{0, 2, 4, 6}[i%4], 1+rng.IntN(3))
		want, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		// The trailer is the last four bytes of the last IDAT payload (before its CRC, then tIME and IEND).
		end := len(b) - len(chunk("IEND", nil)) - len(chunk("tIME", []byte{7, 234, 1, 2, 3, 4, 5})) - 4
		b[end-1] ^= 0x5a
		start := bytes.LastIndex(b[:end], []byte("IDAT")) - 4
		binary.BigEndian.PutUint32(b[end:], crc32.ChecksumIEEE(b[start+4:end]))
		if _, err := png.Decode(bytes.NewReader(b)); !badAdler(err) {
			t.Fatalf("image/png on a bad Adler-32: %v, want a checksum error", err)
		}
		got, err := d.Decode(b)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("bad Adler-32: %v, want the stream's image", err)
		}
		same(t, &d, b, "bad Adler-32")
	}
}

func TestDecode_MatchesImagePNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var d Decoder
	for i := range 300 {
		w, h := 1+rng.IntN(90), 1+rng.IntN(70)
		ct := []uint8{0, 2, 4, 6}[i%4]
		b := craft(rng, w, h, ct, 1+rng.IntN(3))
		if _, ok := Parse(b); !ok {
			t.Fatalf("crafted %dx%d ct %d: not on the fast path", w, h, ct)
		}
		same(t, &d, b, "crafted")
		// Corruptions: a flipped byte anywhere (bad CRC, broken stream, bad filter), or a truncation.
		for range 5 {
			c := bytes.Clone(b)
			c[rng.IntN(len(c))] ^= byte(1 + rng.IntN(255))
			same(t, &d, c, "corrupted")
		}
		same(t, &d, b[:rng.IntN(len(b))], "truncated")
	}
}

func TestDecode_EncoderOutput(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var d Decoder
	imgs := []image.Image{
		image.NewGray(image.Rect(0, 0, 76, 64)),
		image.NewRGBA(image.Rect(0, 0, 300, 200)),  // opaque: encoded as RGB
		image.NewNRGBA(image.Rect(0, 0, 640, 200)), // translucent: RGBA, several IDAT chunks
		image.NewPaletted(image.Rect(0, 0, 20, 10), color.Palette{color.Black, color.White}),
		image.NewGray16(image.Rect(0, 0, 10, 10)),
		image.NewGray(image.Rect(0, 0, 2000, 700)), // several IDAT chunks
	}
	for _, img := range imgs {
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if rng.IntN(3) == 0 {
					v := uint8(rng.IntN(256))
					img.(interface{ Set(x, y int, c color.Color) }).Set(x, y, color.NRGBA{v, v / 2, 255 - v, uint8(rng.IntN(256))})
				} else if _, ok := img.(*image.RGBA); ok {
					img.(*image.RGBA).Set(x, y, color.White)
				}
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		same(t, &d, buf.Bytes(), "encoded")
	}
}

func BenchmarkDecode(b *testing.B) {
	// One handwritten-like digit on a 76×64 canvas, as scripts/load sends: a dark ring, anti-aliased.
	g := image.NewGray(image.Rect(0, 0, 76, 64))
	for y := range 64 {
		for x := range 76 {
			d := math.Hypot(float64(x)-38, (float64(y)-32)*0.7) - 14
			g.Pix[y*76+x] = uint8(255 * min(1, max(0, math.Abs(d)-1.5)))
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, g)
	data := buf.Bytes()
	b.Run("pngdec", func(b *testing.B) {
		var d Decoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-png", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A canvas — white paper, a few dark strokes — with every row filtered by one filter type (and a mix): the
// blank-paper shortcuts of Sub, Up and Paeth (blocks of zero differences) decode as image/png decodes them.
func TestDecode_CanvasEveryFilter(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var d Decoder
	for _, ct := range []uint8{0, 2, 4, 6} {
		bpp := map[uint8]int{0: 1, 2: 3, 4: 2, 6: 4}[ct]
		w, h := 97, 60
		pix := make([]byte, w*h*bpp)
		for i := range pix {
			pix[i] = 0xff
		}
		for s := range 3 { // strokes: short diagonal runs of a dark, slightly coloured ink
			x0, y0 := rng.IntN(w-20), rng.IntN(h-20)
			for k := range 18 {
				px := pix[((y0+k)*w+x0+k+s)*bpp:][:bpp]
				for c := range px {
					px[c] = byte(20 + 10*c + rng.IntN(3))
				}
			}
		}
		for filter := range 6 { // 0..4 for every row; 5: each row its own
			var raw []byte
			prev := make([]byte, w*bpp)
			for y := range h {
				f := byte(filter)
				if filter == 5 {
					f = byte(rng.IntN(5))
				}
				raw = append(raw, f)
				raw = append(raw, filterRow(f, pix[y*w*bpp:(y+1)*w*bpp], prev, bpp)...)
				prev = pix[y*w*bpp : (y+1)*w*bpp]
			}
			same(t, &d, file(w, h, ct, raw, 1), "canvas")
		}
	}
}

// filterRow applies PNG filter f to row cur given the row above prev (zero above the first).
func filterRow(f byte, cur, prev []byte, bpp int) []byte {
	out := make([]byte, len(cur))
	for i := range cur {
		var a, b, c int
		if i >= bpp {
			a, c = int(cur[i-bpp]), int(prev[i-bpp])
		}
		b = int(prev[i])
		var p int
		switch f {
		case 1:
			p = a
		case 2:
			p = b
		case 3:
			p = (a + b) / 2
		case 4:
			pa, pb, pc := abs(b-c), abs(a-c), abs(a+b-2*c)
			switch {
			case pa <= pb && pa <= pc:
				p = a
			case pb <= pc:
				p = b
			default:
				p = c
			}
		}
		out[i] = cur[i] - byte(p)
	}
	return out
}
