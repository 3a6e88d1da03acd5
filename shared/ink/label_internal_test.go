package ink

import (
	"math/rand/v2"
	"testing"
)

// TestNextInkAndPaper_MatchBytewiseScans checks the word-at-a-time scans of label against the byte-by-byte
// definition on random rows, every start and every byte value around the threshold.
func TestNextInkAndPaper_MatchBytewiseScans(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		row := make([]uint8, rng.IntN(40))
		for k := range row {
			switch rng.IntN(4) {
			case 0:
				row[k] = 0
			case 1:
				row[k] = uint8(inkThreshold - 2 + rng.IntN(4)) // 46..49
			default:
				row[k] = uint8(rng.IntN(256))
			}
		}
		for from := 0; from <= len(row); from++ {
			ink, paper := from, from
			for ink < len(row) && row[ink] < inkThreshold {
				ink++
			}
			for paper < len(row) && row[paper] >= inkThreshold {
				paper++
			}
			if got := nextInk(row, from); got != ink {
				t.Fatalf("case %d, row %v from %d: nextInk %d, want %d", i, row, from, got, ink)
			}
			if got := nextPaper(row, from); got != paper {
				t.Fatalf("case %d, row %v from %d: nextPaper %d, want %d", i, row, from, got, paper)
			}
		}
	}
}
