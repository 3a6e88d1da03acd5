package recognize_test

import (
	"slices"
	"testing"

	"digitpad/assets"
	"digitpad/internal/cputime"
	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// cardRecognizer is the shipped model configured by its card (temperature, confirm model and threshold), as
// every shell runs it.
func cardRecognizer(tb testing.TB, format string) *recognize.Recognizer {
	tb.Helper()
	card, err := assets.ParseCard(assets.ModelCard(), assets.Model())
	if err != nil {
		tb.Fatal(err)
	}
	return mustRecognizer(tb, card.Configure(recognize.Config{Format: format}))
}

// crossingCodes are tightly written validation codes (seed 11, 50 writers) whose neighbours' strokes cross or
// merge: the pixels of the stroke mask read them wrong (11615, 57622, 83701, 77089 before the stroke lattice).
var crossingCodes = []int{47, 143, 467, 483}

// valSheet is item i of the validation code set of seed 11.
func valSheet(tb testing.TB, i int) *synth.Sheet {
	tb.Helper()
	_, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, 11, i, 50)
	if err != nil {
		tb.Fatal(err)
	}
	return sh
}

// Digits are written one after another: runs of strokes part neighbours whose strokes cross, where no cut of the
// pixels does.
func TestStrokes_CrossingNeighboursReadFromStrokes(t *testing.T) {
	r := cardRecognizer(t, "5")
	for _, i := range crossingCodes {
		sh := valSheet(t, i)
		b := sh.Image.Bounds()
		res, err := r.Strokes(sh.Code.Strokes, b.Dx(), b.Dy(), recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != sh.Code.Text {
			t.Errorf("item %d: read %q from strokes, want %q", i, res.Code, sh.Code.Text)
		}
		for _, d := range res.Digits {
			if x := d.Box; x[0] < 0 || x[1] < 0 || x[2] > b.Dx() || x[3] > b.Dy() || x[0] >= x[2] || x[1] >= x[3] {
				t.Errorf("item %d: box %v outside the %dx%d canvas", i, x, b.Dx(), b.Dy())
			}
		}
	}
}

// A clerk who adds a stroke to an earlier digit after writing the rest (a 1 made into a 4, a 7 crossed last)
// still gets the code: the late stroke joins the digit it lies in.
func TestStrokes_LateStrokeJoinsItsDigit(t *testing.T) {
	r := cardRecognizer(t, "5")
	moved := 0
	for _, i := range crossingCodes {
		sh := valSheet(t, i)
		c := sh.Code
		// The last stroke of the first digit (not the code's last) that has several.
		k := -1
		for s := 1; s < len(c.Strokes); s++ {
			if c.Digit[s] == c.Digit[s-1] && c.Digit[s] < len(c.Text)-1 && (s+1 == len(c.Strokes) || c.Digit[s+1] != c.Digit[s]) {
				k = s
				break
			}
		}
		if k < 0 {
			continue
		}
		moved++
		strokes := append(slices.Clone(c.Strokes[:k]), c.Strokes[k+1:]...)
		strokes = append(strokes, c.Strokes[k])
		b := sh.Image.Bounds()
		res, err := r.Strokes(strokes, b.Dx(), b.Dy(), recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != c.Text {
			t.Errorf("item %d with digit %d's stroke %d written last: read %q, want %q", i, c.Digit[k]+1, k, res.Code, c.Text)
		}
	}
	if moved < 2 {
		t.Fatalf("only %d codes have a digit of several strokes to correct late", moved)
	}
}

// A clerk who writes a whole digit after the rest of the code (a missing digit added) still gets the code from
// its strokes on codes whose neighbours cross, where the pixels read them wrong: the late digit's strokes take
// their place by position. The exception is item 483's "1" (70189) written last: the pixels' reading stands
// (a late single stroke within a neighbour's extent joins it, as a correction would: groupStrokes).
func TestStrokes_WholeDigitWrittenLastTakesItsPlace(t *testing.T) {
	r := cardRecognizer(t, "5")
	for _, i := range crossingCodes {
		sh := valSheet(t, i)
		c := sh.Code
		for d := range len(c.Text) - 1 {
			if i == 483 && d == 2 {
				continue
			}
			var strokes, late []ink.Stroke
			for k, st := range c.Strokes {
				if c.Digit[k] == d {
					late = append(late, st)
				} else {
					strokes = append(strokes, st)
				}
			}
			b := sh.Image.Bounds()
			res, err := r.Strokes(append(strokes, late...), b.Dx(), b.Dy(), recognize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != c.Text {
				t.Errorf("item %d with digit %d written last: read %q, want %q", i, d+1, res.Code, c.Text)
			}
		}
	}
}

// BenchmarkStrokes_ValidationCode reads validation codes (seed 11, every fourth tight) from strokes, one code per
// op, as a pad sends them (format 5). cpu-ns/op is the process's CPU time per code (getrusage), steadier than the
// wall time on a shared machine.
func BenchmarkStrokes_ValidationCode(b *testing.B) {
	for _, kind := range []struct {
		name  string
		tight bool
	}{{"normal", false}, {"tight", true}} {
		b.Run(kind.name, func(b *testing.B) {
			r := cardRecognizer(b, "5")
			var sheets []*synth.Sheet
			for i := 0; len(sheets) < 20; i++ {
				if (i%4 == 3) == kind.tight {
					sheets = append(sheets, valSheet(b, i))
				}
			}
			i := 0
			c0 := cputime.Process()
			for b.Loop() {
				sh := sheets[i%len(sheets)]
				i++
				if _, err := r.Strokes(sh.Code.Strokes, sh.Image.Bounds().Dx(), sh.Image.Bounds().Dy(), recognize.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}
