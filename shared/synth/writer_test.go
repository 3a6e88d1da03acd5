package synth_test

import (
	"bytes"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/synth"
)

func TestWriterID_RangesAreDisjoint(t *testing.T) {
	for _, set := range []synth.WriterSet{synth.TrainWriters, synth.ValWriters, synth.EvalWriters} {
		for _, i := range []uint64{0, 1, 12345, 1<<40 - 1, 1 << 40, 1<<63 + 5} {
			if got := synth.SetOf(synth.WriterID(set, i)); got != set {
				t.Errorf("writer %d of set %d belongs to set %d", i, set, got)
			}
		}
	}
}

func TestWriter_DeterministicPerIDAndSeed(t *testing.T) {
	w := synth.NewWriter(synth.WriterID(synth.EvalWriters, 7), synth.AnyHand)
	if w != synth.NewWriter(synth.WriterID(synth.EvalWriters, 7), synth.AnyHand) {
		t.Fatal("the same id gave two different writers")
	}
	a, err := w.Write("94107", 3, 400, 160, 80, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := w.Write("94107", 3, 400, 160, 80, false)
	c, _ := w.Write("94107", 4, 400, 160, 80, false)
	if !bytes.Equal(a.Image.Pix, b.Image.Pix) {
		t.Error("same writer and seed rendered different canvases")
	}
	if bytes.Equal(a.Image.Pix, c.Image.Pix) {
		t.Error("different seeds rendered identical canvases")
	}
	if len(a.Code.Boxes) != 5 || a.Code.Text != "94107" {
		t.Errorf("code %q with %d boxes", a.Code.Text, len(a.Code.Boxes))
	}
	if _, err := w.Write("9x", 1, 100, 100, 50, false); err == nil {
		t.Error("a non-digit was written")
	}
}

// TestWriter_NibMakesHairlines: a flat nib draws strokes along its edge as hairlines and across it at full
// width, so a nib writer's 1 (a vertical stroke) is far thicker than its 7's bar when the nib lies vertically.
func TestWriter_NibMakesHairlines(t *testing.T) {
	w := synth.Writer{Pen: synth.NibPen, PenWidth: 0.16, Contrast: 0.08, NibAngle: 0, Jitter: 0, Aspect: 1}
	width := func(text string) float64 {
		sh, err := w.Write(text, 1, 200, 200, 120, false)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ink.MaskFromImage(sh.Image)
		if err != nil {
			t.Fatal(err)
		}
		// Mean ink per covered row for the vertical stroke, per covered column for the horizontal one.
		var ink, lines float64
		for y := 0; y < m.H; y++ {
			row := 0.0
			for x := 0; x < m.W; x++ {
				row += float64(m.Pix[y*m.W+x]) / 255
			}
			if row > 0.5 {
				ink += row
				lines++
			}
		}
		return ink / lines
	}
	// Style 0 of 1 is a plain vertical bar; a nib lying along x draws it at full width.
	w.Style[1] = synth.OneStroke
	w.NibAngle = 0
	thick := width("1")
	w.NibAngle = 1.5708 // nib along y: the same bar becomes a hairline
	thin := width("1")
	if thick < 3*thin {
		t.Errorf("vertical bar %.1f px wide with the nib across it, %.1f px along it: want a thick-thin contrast", thick, thin)
	}
}

func TestSetCanvas_LabelsAndKinds(t *testing.T) {
	for _, kind := range []synth.SetKind{synth.CleanDigits, synth.UnsteadyDigits, synth.Codes5} {
		img, text, err := synth.SetCanvas(synth.ValWriters, kind, 1, 13, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if kind == synth.Codes5 {
			want = 5
		}
		if len(text) != want || img.Bounds().Empty() {
			t.Errorf("kind %d: label %q on %v", kind, text, img.Bounds())
		}
		if _, err := ink.MaskFromImage(img); err != nil {
			t.Errorf("kind %d: %v", kind, err)
		}
	}
	if _, err := synth.ParseSetKind("fonts"); err == nil {
		t.Error("unknown set kind accepted")
	}
}
