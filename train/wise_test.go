package train

import "testing"

func TestInterpolate_MixesWeightsByShare(t *testing.T) {
	from := [][]float32{{0, 2}, {4}}
	to := [][]float32{{2, 2}, {0}}
	got := interpolate(from, to, 0.25)
	want := [][]float32{{0.5, 2}, {3}}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("interpolate[%d][%d] = %g, want %g", i, j, got[i][j], want[i][j])
			}
		}
	}
	if from[1][0] != 4 || to[1][0] != 0 {
		t.Fatal("interpolate changed its inputs")
	}
}
