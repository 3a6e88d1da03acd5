package recognize

import (
	"image"
	"slices"
	"testing"

	"digitpad/shared/ink"
)

// Without a format, all the ink read as one digit is weighed against the free segmentation's plan of two by
// wholeWins: a cut through two strokes or a short piece (a detached bar) says one digit even when the halves read
// more confidently than the whole; a cut through little ink between two full-height pieces says two digits even
// when the whole reads surely ("44" read as a 4).
func TestChoose_WholeAgainstSplitWithoutFormat(t *testing.T) {
	tests := []struct {
		name              string
		cut               float64
		shortHeight       int // of the shorter piece; the whole and the other piece are 100 high
		half1, half2, one float64
		wantWhole         bool
	}{
		{"wide 0 read as 61", 2, 100, 0.99, 0.99, 0.9, true},
		{"touching 44 read as a 4", 0.3, 100, 0.99, 0.99, 0.999, false},
		{"5 with a detached bar", 0, 30, 0.9, 0.8, 0.95, true},
		{"two digits apart", 0, 90, 0.99, 0.99, 0.6, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &Job{
				cands: [][]int{{0, 1}, {2}},
				digits: []ink.Digit{{Box: image.Rect(0, 0, 50, tt.shortHeight)}, {Box: image.Rect(50, 0, 100, 100)},
					{Box: image.Rect(0, 0, 100, 100)}},
				probs:      probsFor(tt.half1, tt.half2, tt.one),
				cutStrokes: tt.cut,
			}
			if got := slices.Equal(j.choose(), []int{2}); got != tt.wantWhole {
				t.Errorf("whole chosen %v, want %v", got, tt.wantWhole)
			}
		})
	}
}

// probsFor returns one probability row per confidence: digit i%10 at that confidence, the rest spread evenly.
func probsFor(confs ...float64) []float32 {
	var p []float32
	for i, c := range confs {
		row := make([]float32, 10)
		for k := range row {
			row[k] = float32((1 - c) / 9)
		}
		row[i%10] = float32(c)
		p = append(p, row...)
	}
	return p
}
