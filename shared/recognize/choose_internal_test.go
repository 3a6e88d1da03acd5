package recognize

import (
	"math"
	"slices"
	"testing"
)

// Without a format, all the ink read as one digit is weighed against the free segmentation's cut of one piece
// into two by the strokes the cut goes through (Job.cutStrokes): a cut through little ink parts two touching
// digits (the whole must read clearly better); otherwise, or with no such cut, the whole wins when it reads
// surely and about as well.
func TestChoose_WholeAgainstCutByCutStrokes(t *testing.T) {
	probs := func(confs ...float64) []float32 {
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
	tests := []struct {
		name              string
		cut               float64
		half1, half2, one float64
		wantWhole         bool
	}{
		{"no cut, whole sure", math.NaN(), 0.95, 0.95, 0.95, true},
		{"no cut, whole unsure", math.NaN(), 0.98, 0.99, 0.75, false},
		{"touching, whole sure", 0.3, 0.95, 0.95, 0.97, false},
		{"touching, whole clearly better", 0.3, 0.6, 0.7, 0.95, true},
		{"through strokes, whole sure", 1.2, 0.95, 0.95, 0.97, true},
		{"through strokes, whole unsure", 1.9, 0.98, 0.99, 0.75, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &Job{cands: [][]int{{0, 1}, {2}}, probs: probs(tt.half1, tt.half2, tt.one), cutStrokes: tt.cut}
			if got := slices.Equal(j.choose(), []int{2}); got != tt.wantWhole {
				t.Errorf("whole chosen %v, want %v", got, tt.wantWhole)
			}
		})
	}
}
