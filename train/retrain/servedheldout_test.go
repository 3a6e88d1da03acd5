package retrain

import (
	"context"
	"testing"

	"digitpad/assets"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
	"digitpad/train/calibrate"
)

// servedHeldOut's rates are the served recogniser's own verdicts on the held-out codes: a code asks when it breaks
// the format or the recogniser flags a digit (Result.Confirm), and is a silent error when it is wrong otherwise.
func TestServedHeldOut_TheRecognisersOwnVerdicts(t *testing.T) {
	m, err := onnxrec.Load(assets.Model(), assets.ModelCard())
	if err != nil {
		t.Fatal(err)
	}
	o := calibrate.Defaults()
	o.HoldoutCodes, o.StrokeHoldout = 80, 80
	got, err := servedHeldOut(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := m.Recognizer(recognize.Config{Format: o.Format})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		name    string
		strokes bool
		seed    uint64
		per     int
	}{{"code", false, o.HoldoutSeed, calibrate.CodesPerSeed}, {"stroke_code", true, o.StrokeHoldoutSeed, calibrate.StrokeHoldoutPerSeed}} {
		ask, silent := 0, 0
		for i := range 80 {
			img, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, k.seed+uint64(i/k.per), i%k.per, 100)
			if err != nil {
				t.Fatal(err)
			}
			var r *recognize.Result
			if k.strokes {
				b := img.Bounds()
				req := protocol.Predict{Strokes: sh.Code.Paths()}
				r, err = rec.Strokes(req.InkStrokes(), b.Dx(), b.Dy(), recognize.Options{})
			} else {
				r, err = rec.Image(img, recognize.Options{})
			}
			switch {
			case err != nil || r.FormatError != "" || len(r.Confirm) > 0:
				ask++
			case r.Code != sh.Code.Text:
				silent++
			}
		}
		c, s := got["base_heldout_"+k.name+"_confirm_rate"], got["base_heldout_"+k.name+"_silent_error_rate"]
		t.Logf("%s: %d of 80 ask, %d silent; servedHeldOut %.4f, %.4f", k.name, ask, silent, c, s)
		if c != float64(ask)/80 || s != float64(silent)/80 {
			t.Errorf("%s: servedHeldOut confirm %.4f silent %.4f, the recogniser's verdicts %d and %d of 80", k.name, c, s, ask, silent)
		}
	}
	if k := len(got); k != 4 {
		t.Errorf("%d metrics, want 4: %v", k, got)
	}
}
