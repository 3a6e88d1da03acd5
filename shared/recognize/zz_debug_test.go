package recognize_test

import (
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

func TestZZCount(t *testing.T) {
	r := mustRecognizer(t, recognize.Config{Format: "5"})
	for q := range 12 {
		img, code, _ := synth.SetCanvas(synth.ValWriters, synth.Codes5, 5, 4*q+3, 50)
		m, _ := ink.WorkMaskFromImage(img, ink.Options{})
		j, _ := r.Prepare(m, recognize.Options{})
		before := j.Len()
		r.Classify([]*recognize.Job{j})
		t.Logf("%s: len before %d after %d %s", code, before, j.Len(), j.Result().Code)
	}
}
