package ink

// These tests hold the word-at-a-time and bounded-rectangle paths of the mask, the crop and the labelling to what
// the plain per-pixel code gives.

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// contrastLUTRef is contrastLUT as first written: one plain histogram, and every LUT entry computed from the
// difference of its value.
func contrastLUTRef(src []uint8, w, h int) (lut [256]uint8, ok bool) {
	var bh [256]int
	nb := borderHistogram(src, w, h, &bh)
	bg := quantile(&bh, nb, 0.5)
	var hist [256]int
	for _, v := range src {
		hist[v]++
	}
	dark := bg >= 128
	if bg > 96 && bg < 160 {
		below, above := 0, 0
		for v := 0; v < 256; v++ {
			switch {
			case v < bg-minContrast:
				below += hist[v]
			case v > bg+minContrast:
				above += hist[v]
			}
		}
		dark = below >= above
	}
	diff := func(v int) int {
		if dark {
			return bg - v
		}
		return v - bg
	}
	var dh, dbh [256]int
	for v := 0; v < 256; v++ {
		if d := diff(v); d > 0 {
			dh[d] += hist[v]
			dbh[d] += bh[v]
		} else {
			dh[0] += hist[v]
			dbh[0] += bh[v]
		}
	}
	need := max(4, len(src)/50000)
	peak, acc := 0, 0
	for d := 255; d > 0; d-- {
		acc += dh[d]
		if acc >= need {
			peak = d
			break
		}
	}
	if peak < minContrast {
		return lut, false
	}
	noise := quantile(&dbh, nb, 0.9) + 4
	t0 := max(noise, peak/minInkShare)
	if peak-t0 < minContrast/2 {
		return lut, false
	}
	for v := 0; v < 256; v++ {
		c := (diff(v) - t0) * 255 / (peak - t0)
		lut[v] = uint8(min(255, max(0, c)))
	}
	return lut, true
}

// TestContrastLUT_MatchesReference: the contrast table is the reference's for planes of every kind — dark ink
// on light paper, light on dark, mid-grey paper, noisy paper, flat planes.
func TestContrastLUT_MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 3000 {
		w, h := 1+rng.IntN(40), 1+rng.IntN(40)
		src := make([]uint8, w*h)
		bg := uint8(rng.IntN(256))
		noise := []int{1, 4, 30, 256}[i%4]
		ink := uint8(rng.IntN(256))
		for k := range src {
			v := int(bg) + rng.IntN(noise) - noise/2
			if rng.IntN(5) == 0 {
				v = int(ink) + rng.IntN(noise) - noise/2
			}
			src[k] = uint8(min(255, max(0, v)))
		}
		want, wok := contrastLUTRef(src, w, h)
		got, gok := contrastLUT(src, w, h, image.Rect(0, 0, w, h))
		if got != want || gok != wok {
			t.Fatalf("case %d (%dx%d bg %d ink %d noise %d): ok %v, reference %v\n got %v\nwant %v", i, w, h, bg, ink, noise, gok, wok, got, want)
		}
	}
}

// TestWhiteMargins: every byte outside [lo, hi) is white and the bytes at lo and hi-1 are not (an all-white
// row: lo >= hi).
func TestWhiteMargins(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 5000 {
		row := make([]uint8, rng.IntN(80))
		fillFF(row)
		for range rng.IntN(4) {
			if len(row) > 0 {
				row[rng.IntN(len(row))] = uint8(rng.IntN(255))
			}
		}
		lo, hi := whiteMargins(row)
		wlo, whi := len(row), len(row)
		for x, v := range row {
			if v != 0xff {
				if wlo == len(row) {
					wlo = x
				}
				whi = x + 1
			}
		}
		if wlo == len(row) { // all white
			if lo < hi {
				t.Fatalf("case %d: all-white row of %d: [%d, %d)", i, len(row), lo, hi)
			}
			continue
		}
		if lo != wlo || hi != whi {
			t.Fatalf("case %d: row %v: [%d, %d), want [%d, %d)", i, row, lo, hi, wlo, whi)
		}
	}
}

// TestCoverage: each mask value becomes float32(v) / 255 as the crop always computed it, zero runs included.
func TestCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 2000 {
		src := make([]uint8, rng.IntN(70))
		for k := range src {
			if rng.IntN(3) == 0 {
				src[k] = uint8(rng.IntN(256))
			}
		}
		dst := make([]float32, len(src))
		for k := range dst {
			dst[k] = -1
		}
		coverage(dst, src)
		for k, v := range src {
			if want := float32(v) * (1.0 / 255); math.Float32bits(dst[k]) != math.Float32bits(want) {
				t.Fatalf("case %d, pixel %d (%d): %v, want %v", i, k, v, dst[k], want)
			}
		}
	}
}

// TestLabel_InkRectangle: a mask that knows where its ink lies (maskFromPlanes) is labelled as the whole mask
// is: the same runs, rows and components.
func TestLabel_InkRectangle(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	known := 0
	for i := range 500 {
		w, h := 8+rng.IntN(60), 8+rng.IntN(60)
		luma := make([]uint8, w*h)
		fillFF(luma)
		ink := image.Rect(rng.IntN(w/2), rng.IntN(h/2), w/2+rng.IntN(w/2+1), h/2+rng.IntN(h/2+1))
		for range rng.IntN(8) {
			x0, y0 := ink.Min.X+rng.IntN(max(1, ink.Dx())), ink.Min.Y+rng.IntN(max(1, ink.Dy()))
			for y := y0; y < min(ink.Max.Y, y0+1+rng.IntN(12)); y++ {
				for x := x0; x < min(ink.Max.X, x0+1+rng.IntN(12)); x++ {
					luma[y*w+x] = uint8(rng.IntN(200))
				}
			}
		}
		m := maskFromPlanes(luma, nil, w, h, ink)
		if !m.paperOutside.Empty() {
			known++
		}
		whole := *m
		whole.paperOutside = image.Rectangle{}
		got, want := label(m), label(&whole)
		if !slices.Equal(got.runs, want.runs) || !slices.Equal(got.rowStart, want.rowStart) || !slices.Equal(got.comps, want.comps) {
			t.Fatalf("case %d (%dx%d, ink %v): labels differ from the whole mask's", i, w, h, ink)
		}
	}
	if known < 100 {
		t.Fatalf("only %d of 500 masks knew their ink rectangle", known)
	}
}
