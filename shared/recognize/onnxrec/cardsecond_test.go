//go:build !js

package onnxrec_test

import (
	"fmt"
	"testing"

	"digitpad/assets"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
)

// A model card records the settings its confirm policies were fitted with the second reader at, and the recogniser
// reads at those: the same model under a card naming weight 0.3 averages the consulted digits' probabilities 0.7 /
// 0.3, where a card naming only the second reader's sha256 reads at the second reader's own card's weight.
func TestRecognizer_SecondReaderAtTheCardsSettings(t *testing.T) {
	_, sc, err := onnxrec.SecondModel()
	if err != nil {
		t.Fatal(err)
	}
	card := func(second string) []byte {
		return []byte(fmt.Sprintf(`{"name":"a","calibration":{"temperature":0.65,"second_reader":%s}}`, second))
	}
	shaOnly, err := onnxrec.New(assets.Model(), card(fmt.Sprintf(`{"sha256":%q}`, sc.SHA256)), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	light, err := onnxrec.New(assets.Model(), card(fmt.Sprintf(`{"sha256":%q,"weight":0.3}`, sc.SHA256)), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := onnxrec.New(assets.Model(), card(`{}`), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	probe := make([]float32, 10)
	consulted := 0
	for i := range 20 {
		img, _, err := synth.SetSheet(synth.ValWriters, synth.Codes5, 11, i, 100)
		if err != nil {
			t.Fatal(err)
		}
		var rs [3]*recognize.Result
		for k, r := range []*recognize.Recognizer{plain, shaOnly, light} {
			if rs[k], err = r.Image(img, recognize.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		if len(rs[0].Digits) != len(rs[1].Digits) || len(rs[0].Digits) != len(rs[2].Digits) {
			continue // another segmentation won; compare only aligned readings
		}
		for d := range rs[0].Digits {
			p0, p1, p2 := rs[0].Digits[d], rs[1].Digits[d], rs[2].Digits[d]
			if p1.Second != p2.Second || p0.Second {
				t.Fatalf("code %d digit %d: consulted without a second reader %v, at 0.5 %v, at 0.3 %v", i, d, p0.Second, p1.Second, p2.Second)
			}
			if !p1.Second {
				continue
			}
			consulted++
			// The second model's tempered probabilities, recovered from the 0.5 reading: q = (p1 - 0.5 p0) / 0.5.
			for c := range 10 {
				probe[c] = float32((p1.Probs[c] - (1-sc.Weight)*p0.Probs[c]) / sc.Weight)
				want := 0.7*p0.Probs[c] + 0.3*float64(probe[c])
				if diff := p2.Probs[c] - want; diff > 1e-6 || diff < -1e-6 {
					t.Fatalf("code %d digit %d class %d: weight 0.3 reads %.6f, want 0.7 x %.6f + 0.3 x %.6f = %.6f", i, d, c,
						p2.Probs[c], p0.Probs[c], probe[c], want)
				}
			}
		}
	}
	if sc.Weight != 0.5 || consulted == 0 {
		t.Fatalf("second card weight %g, %d digits consulted: want 0.5 and some", sc.Weight, consulted)
	}
}
