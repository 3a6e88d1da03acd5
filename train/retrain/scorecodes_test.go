package retrain

import (
	"fmt"
	"testing"

	"digitpad/assets"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
)

// ScoreCodes reads a record's digits together, so the gate's holdout is read as served: with the second reader
// the digits in doubt of a code (and only those) change, while the same digits as one-digit records, or read
// without it, read as Score reads them one by one.
func TestScoreCodes_SecondReaderOnDoubtfulDigitsOfCodes(t *testing.T) {
	m, err := onnxrec.Load(assets.Model(), assets.ModelCard())
	if err != nil {
		t.Fatal(err)
	}
	second, err := onnxrec.SecondReader()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := recognize.New(m.Model, recognize.ModelInfo{}, m.Card.Configure(recognize.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	withSecond, err := recognize.New(m.Model, recognize.ModelInfo{}, m.Card.Configure(recognize.Config{Second: second}))
	if err != nil {
		t.Fatal(err)
	}
	// Records: the digits of 40 validation codes as the recogniser cuts them, labelled with the truth.
	var ss, singles []Sample
	for i := range 40 {
		img, sh, err := synth.SetSheet(synth.ValWriters, synth.Codes5, 11, i, 100)
		if err != nil {
			t.Fatal(err)
		}
		r, err := plain.Image(img, recognize.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Inputs) != len(sh.Code.Text) {
			continue
		}
		for k, in := range r.Inputs {
			s := Sample{Input: in, Label: sh.Code.Text[k] - '0', RecordID: fmt.Sprint(i)}
			ss = append(ss, s)
			s.RecordID = fmt.Sprintf("%d-%d", i, k)
			singles = append(singles, s)
		}
	}
	one, err := Score(m.Model, m.Card, samplesSet("digits", ss))
	if err != nil {
		t.Fatal(err)
	}
	without, err := ScoreCodes(plain, "codes", ss)
	if err != nil {
		t.Fatal(err)
	}
	with, err := ScoreCodes(withSecond, "codes", ss)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := ScoreCodes(withSecond, "digits", singles)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for k := range ss {
		if without.Preds[k] != one.Preds[k] || alone.Preds[k] != one.Preds[k] || alone.Conf[k] != without.Conf[k] {
			t.Errorf("digit %d: read one by one %d, in its code without the second reader %d, alone with it %d (%g vs %g)", k,
				one.Preds[k], without.Preds[k], alone.Preds[k], alone.Conf[k], without.Conf[k])
		}
		if with.Conf[k] != without.Conf[k] {
			changed++
			if float64(without.Conf[k]) >= second.Below() {
				t.Errorf("digit %d read at %.4f changed with the second reader (level %g)", k, without.Conf[k], second.Below())
			}
		}
	}
	t.Logf("%d digits of %d codes: the second reader changed %d; accuracy %.2f%% -> %.2f%%, asked %.2f%% -> %.2f%%", len(ss),
		len(ss)/5, changed, 100*without.Accuracy, 100*with.Accuracy, 100*without.ConfirmRate, 100*with.ConfirmRate)
	if changed == 0 {
		t.Error("the second reader changed no digit of the codes")
	}
}
