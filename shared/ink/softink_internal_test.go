package ink

import (
	"math"
	"testing"
)

// strokeProfile draws a vertical stroke of the given cross-section (levels from the centre outwards) into a
// 28×28 frame.
func strokeProfile(levels []float32) [784]float32 {
	var img [784]float32
	for y := 4; y < 24; y++ {
		for d, v := range levels {
			img[y*28+14+d] = v
			img[y*28+14-d] = v
		}
	}
	return img
}

// A digit whose ink is graded as MNIST's is (levels falling off gradually from the core) keeps its levels
// through normalisation at MNIST's own width; flat pen ink with a soft edge has its edge lifted (restoreProfile).
func TestNormalizePeakProfile_KeepsGradedInk(t *testing.T) {
	graded := strokeProfile([]float32{1, 0.7, 0.4, 0.15})
	got := graded
	normalizePeakProfile(got[:])
	if got != graded {
		t.Errorf("graded ink (mean level %.2f) changed by normalisation", meanInkLevel(graded[:]))
	}
	// The same graded stroke at a weaker peak is only stretched: each level over the peak.
	faint := strokeProfile([]float32{0.5, 0.35, 0.2, 0.075})
	normalizePeakProfile(faint[:])
	for i, v := range faint {
		if math.Abs(float64(v-graded[i])) > 1e-6 {
			t.Fatalf("faint graded ink, pixel %d: %v, want %v (stretched only)", i, v, graded[i])
		}
	}

	flat := strokeProfile([]float32{1, 1, 0.3})
	got = flat
	normalizePeakProfile(got[:])
	edge := 14*28 + 16
	if want := float32(math.Pow(0.3, profileGamma)); math.Abs(float64(got[edge]-want)) > 1e-3 {
		t.Errorf("flat ink (mean level %.2f): edge %v, want it lifted to %v", meanInkLevel(flat[:]), got[edge], want)
	}
}
