package ink

import (
	"math"
	"math/rand/v2"
	"testing"
)

// strokeWidthRef is the definition strokeWidth computes faster: twice the ink area over the outline length, the
// outline counted pixel edge by pixel edge around every stroke pixel (coverage >= widthThreshold).
func strokeWidthRef(pix []float32, w, h int) float64 {
	area, edges := 0.0, 0
	at := func(x, y int) bool { return x >= 0 && y >= 0 && x < w && y < h && pix[y*w+x] >= widthThreshold }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			area += float64(pix[y*w+x])
			if !at(x, y) {
				continue
			}
			for _, d := range [4][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
				if !at(x+d[0], y+d[1]) {
					edges++
				}
			}
		}
	}
	if edges == 0 {
		return 0
	}
	return 8 / math.Pi * area / float64(edges)
}

func TestStrokeWidth_MatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		w, h := 1+rng.IntN(40), 1+rng.IntN(40)
		if i%20 == 0 {
			w = 250 + rng.IntN(20) // rows on either side of strokeWidth's stack buffer
		}
		pix := make([]float32, w*h)
		for k := range pix {
			if rng.Float64() < 0.4 {
				pix[k] = rng.Float32()
			}
		}
		if got, want := strokeWidth(pix, w, h), strokeWidthRef(pix, w, h); got != want {
			t.Fatalf("case %d (%d×%d): strokeWidth %v, definition %v", i, w, h, got, want)
		}
	}
}
