package pngdec

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"
)

// Every kind of PNG a client might send — each colour type at each bit depth the format allows, palettes with
// and without transparency, interlaced files, every filter type, every compression level — decodes exactly as
// image/png decodes it (the fast path or the fallback), including the errors of files image/png refuses.
func TestDecode_VariedPNGsAsImagePNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var d Decoder
	depths := map[uint8][]uint8{0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
	for ct, ds := range depths {
		for _, depth := range ds {
			for _, interlace := range []uint8{0, 1} {
				for range 8 {
					w, h := 1+rng.IntN(40), 1+rng.IntN(30)
					b := craftHeader(rng, w, h, ct, depth, interlace)
					same(t, &d, b, "varied header")
				}
			}
		}
	}
	// The encoder's own files, at every compression level, for the image types it writes.
	for _, level := range []png.CompressionLevel{png.DefaultCompression, png.NoCompression, png.BestSpeed, png.BestCompression} {
		enc := png.Encoder{CompressionLevel: level}
		for _, img := range variedImages(rng) {
			var buf bytes.Buffer
			if err := enc.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			same(t, &d, buf.Bytes(), "encoded")
		}
	}
}

// craftHeader builds a PNG of any colour type, depth and interlace method from random filtered rows of the
// right length for a non-interlaced image (for an interlaced one the stream is the wrong size, an error image/png
// reports), with a palette when the colour type needs one.
func craftHeader(rng *rand.Rand, w, h int, ct, depth, interlace uint8) []byte {
	channels := map[uint8]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
	rowBytes := (w*channels*int(depth) + 7) / 8
	var raw []byte
	for range h {
		raw = append(raw, byte(rng.IntN(5)))
		for range rowBytes {
			v := byte(0)
			if rng.IntN(3) == 0 {
				v = byte(rng.IntN(256))
			}
			raw = append(raw, v)
		}
	}
	var z bytes.Buffer
	zw, _ := flate.NewWriter(&z, rng.IntN(10))
	zw.Write(raw)
	zw.Close()
	stream := append([]byte{0x78, 0x9c}, z.Bytes()...)
	stream = binary.BigEndian.AppendUint32(stream, adler(raw))
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, depth, ct, 0, 0, interlace)
	out := []byte(signature)
	out = append(out, chunk("IHDR", ihdr)...)
	if ct == 3 {
		n := 1 << min(depth, 8)
		pal := make([]byte, 3*n)
		for i := range pal {
			pal[i] = byte(rng.IntN(256))
		}
		out = append(out, chunk("PLTE", pal)...)
		if rng.IntN(2) == 0 {
			out = append(out, chunk("tRNS", []byte{0, 128, 255})...)
		}
	}
	out = append(out, chunk("IDAT", stream)...)
	return append(out, chunk("IEND", nil)...)
}

func adler(b []byte) uint32 {
	s1, s2 := uint32(1), uint32(0)
	for _, v := range b {
		s1 = (s1 + uint32(v)) % 65521
		s2 = (s2 + s1) % 65521
	}
	return s2<<16 | s1
}

// variedImages: canvases of every image type image/png encodes (grey, RGB, translucent, 16-bit, paletted),
// white paper with dark strokes and some noise, as pads send them.
func variedImages(rng *rand.Rand) []image.Image {
	r := image.Rect(0, 0, 97, 61)
	imgs := []image.Image{image.NewGray(r), image.NewRGBA(r), image.NewNRGBA(r), image.NewGray16(r),
		image.NewRGBA64(r), image.NewNRGBA64(r),
		image.NewPaletted(r, color.Palette{color.White, color.Black, color.NRGBA{200, 0, 0, 128}})}
	for _, img := range imgs {
		m := img.(interface{ Set(x, y int, c color.Color) })
		for y := range r.Dy() {
			for x := range r.Dx() {
				c := color.Color(color.White)
				switch {
				case (x-y+100)%23 < 4 && y > 10:
					c = color.NRGBA{20, 30, 40, 255}
				case rng.IntN(50) == 0:
					c = color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256))}
				}
				m.Set(x, y, c)
			}
		}
	}
	return imgs
}
