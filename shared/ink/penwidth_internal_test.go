package ink

import (
	"math/rand/v2"
	"testing"
)

// penWidth's median from counted run lengths is the median of the sorted lengths, with short and very long
// runs, kept and dropped components.
func TestPenWidth_MedianOfSortedRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 500 {
		l := &labels{comps: make([]comp, 1+rng.IntN(5))}
		for range rng.IntN(60) {
			n := 1 + rng.IntN(20)
			if i%10 == 0 && rng.IntN(8) == 0 {
				n = 200 + rng.IntN(400) // beyond the counted lengths
			}
			x0 := int32(rng.IntN(100))
			l.runs = append(l.runs, run{x0: x0, x1: x0 + int32(n), comp: int32(rng.IntN(len(l.comps)))})
		}
		var keep []int32
		inKeep := map[int32]bool{}
		for c := range l.comps {
			if rng.IntN(3) > 0 {
				keep = append(keep, int32(c))
				inKeep[int32(c)] = true
			}
		}
		want := 1.0
		for _, r := range l.runs {
			if inKeep[r.comp] {
				want = penWidthSorted(l, inKeep)
				break
			}
		}
		if got := penWidth(l, keep); got != want {
			t.Fatalf("case %d: penWidth %v, sorted median %v", i, got, want)
		}
	}
}
