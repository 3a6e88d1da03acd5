package ink

import (
	"math"
	"math/rand/v2"
	"testing"
)

// centreMassRef is the definition centreMass computes: the moments summed over every pixel in row-major order.
func centreMassRef(img *[784]float32) (dx, dy int) {
	var m, sx, sy float64
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			v := float64(img[y*side+x])
			m += v
			sx += v * float64(x)
			sy += v * float64(y)
		}
	}
	if m == 0 {
		return 0, 0
	}
	return int(math.Round(centreC - sx/m)), int(math.Round(centreC - sy/m))
}

func TestCentreMass_MatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	negZero := float32(math.Copysign(0, -1))
	for i := range 500 {
		var img [784]float32
		x0, y0 := rng.IntN(side), rng.IntN(side)
		x1, y1 := x0+rng.IntN(side-x0+1), y0+rng.IntN(side-y0+1)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				switch rng.IntN(4) {
				case 0:
					img[y*side+x] = negZero
				case 1:
				default:
					img[y*side+x] = rng.Float32()
				}
			}
		}
		dx, dy := centreMassRef(&img)
		want := img
		if dx != 0 || dy != 0 {
			want = [784]float32{}
			for y := range side {
				for x := range side {
					if sx, sy := x-dx, y-dy; sx >= 0 && sy >= 0 && sx < side && sy < side {
						want[y*side+x] = img[sy*side+sx]
					}
				}
			}
		}
		if got := centreMass(&img); got != want {
			t.Fatalf("case %d: centreMass differs from the definition (shift %d,%d)", i, dx, dy)
		}
	}
}

// normalizePeakRef stretches grey levels so the strongest ink is 1: the first half of normalizePeakProfile.
func normalizePeakRef(img []float32) {
	peak := float32(0)
	for _, v := range img {
		peak = max(peak, v)
	}
	if peak <= 0 || peak >= 1 {
		return
	}
	gain := 1 / max(peak, 0.05)
	for i, v := range img {
		img[i] = min(1, v*gain)
	}
}

func TestNormalizePeakProfile_MatchesTwoPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 500 {
		var got, want [784]float32
		peak := []float32{0.01, 0.3, 0.999, 1, 1.5}[i%5]
		for k := range got {
			if rng.IntN(3) == 0 {
				got[k] = peak * rng.Float32()
			}
		}
		got[rng.IntN(784)] = peak
		want = got
		normalizePeakRef(want[:])
		restoreProfile(want[:])
		normalizePeakProfile(got[:])
		for k := range got {
			if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
				t.Fatalf("case %d (peak %v), pixel %d: %v, two passes %v", i, peak, k, got[k], want[k])
			}
		}
	}
}
