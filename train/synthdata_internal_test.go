package train

import (
	"testing"

	"digitpad/shared/synth"
)

// TestRareHabits_GivesEachHabitItsShareAndLeavesTheRest: with a share of 1 every writer gets the strong slant,
// the hairline pen and the flat-topped 3; with 0 every writer is as synth made it; the other habits never change.
func TestRareHabits_GivesEachHabitItsShareAndLeavesTheRest(t *testing.T) {
	var slanted, hairline int
	for i := range uint64(200) {
		wr := synth.NewWriter(synth.WriterID(synth.TrainWriters, i), synth.AnyHand)
		if got := rareHabits(wr, SynthOptions{Seed: 1}); got != wr {
			t.Fatalf("writer %d changed with no habits asked for", i)
		}
		got := rareHabits(wr, SynthOptions{Seed: 1, Slanted: 1, Hairline: 1, FlatThree: 1})
		if got.Style[3] != synth.ThreeFlatTop {
			t.Errorf("writer %d: 3 in style %d, want the flat top", i, got.Style[3])
		}
		if got.Slant < -slantedRange || got.Slant > slantedRange {
			t.Errorf("writer %d: slant %g outside ±%g", i, got.Slant, slantedRange)
		}
		if got.Slant > 0.25 || got.Slant < -0.25 {
			slanted++
		}
		switch {
		case got.Pen == synth.NibPen && got.Contrast <= 0.25, got.Pen == synth.RoundPen && got.PenWidth <= 0.035:
			hairline++
		default:
			t.Errorf("writer %d: pen %d width %g contrast %g draws no hairlines", i, got.Pen, got.PenWidth, got.Contrast)
		}
		got.Style[3], got.Slant, got.Pen, got.PenWidth, got.Contrast = wr.Style[3], wr.Slant, wr.Pen, wr.PenWidth, wr.Contrast
		if got != wr {
			t.Errorf("writer %d: habits other than slant, pen and 3 changed", i)
		}
	}
	// Uniform in ±0.45: about 44% beyond ±0.25 (steady hands alone: about 4%).
	if slanted < 60 || slanted > 120 {
		t.Errorf("%d of 200 strongly slanted writers, want about 89", slanted)
	}
	half := 0
	for i := range uint64(1000) {
		wr := synth.NewWriter(synth.WriterID(synth.TrainWriters, i), synth.AnyHand)
		if rareHabits(wr, SynthOptions{Seed: 2, FlatThree: 0.5}).Style[3] != wr.Style[3] {
			half++
		}
	}
	// Half are asked to flat-top their 3; a third of those did already.
	if half < 280 || half > 390 {
		t.Errorf("%d of 1000 writers changed their 3 at a share of 0.5, want about 333", half)
	}
}
