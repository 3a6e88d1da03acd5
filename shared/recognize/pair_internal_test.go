package recognize

import (
	"slices"
	"testing"
)

// A pair edge stands for two digits on a path: a 3-digit path over 3 nodes' worth of single edges may take a
// pair edge and one single edge, and takes it when the pair reads better than the two singles it replaces.
func TestLatticePath_PairEdgeCountsTwoDigits(t *testing.T) {
	lat := &lattice{nodes: 4, edges: []latticeEdge{
		{from: 0, to: 1, digit: 0}, {from: 1, to: 2, digit: 1}, {from: 2, to: 3, digit: 2},
		{from: 0, to: 2, digit: 3, digit2: 4, pair: true},
	}}
	for _, tc := range []struct {
		pair float64
		want []int
	}{{-1, []int{0, 1, 2}}, {-0.1, []int{3, 2}}} {
		val := func(e *latticeEdge) (float64, bool) {
			if e.pair {
				return tc.pair, true
			}
			return -0.3, true
		}
		if got := lat.path(3, val); !slices.Equal(got, tc.want) {
			t.Errorf("pair scoring %g: path %v, want %v", tc.pair, got, tc.want)
		}
		// The forward and backward bests agree with the path's score.
		fwd, bwd := lat.scores(3, val, false), lat.scores(3, val, true)
		if fwd[3][3] != bwd[3][0] {
			t.Errorf("pair scoring %g: forward best %g, backward best %g", tc.pair, fwd[3][3], bwd[3][0])
		}
	}
	if got := lat.path(2, func(e *latticeEdge) (float64, bool) { return 0, true }); got != nil {
		t.Errorf("2-digit path %v over 3 digits of ink, want none", got)
	}
}
