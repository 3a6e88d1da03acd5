//go:build !js

package onnxrec_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"digitpad/assets"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
)

// secondJSON is a model card's second_reader object naming sc's models at sc's settings.
func secondJSON(t *testing.T, sc onnxrec.SecondCard) string {
	t.Helper()
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A model card records the settings its confirm policies were fitted with the second reader at, and the recogniser
// reads at those: under a card naming other shares, the consulted digits' probabilities are exactly those of a
// second reader built at those shares by hand, and differ from the shipped card's shares; a card naming only some
// of the shipped models (fitted with another second reader) is read without one.
func TestRecognizer_SecondReaderAtTheCardsSettings(t *testing.T) {
	ms, sc, err := onnxrec.SecondModels()
	if err != nil {
		t.Fatal(err)
	}
	card := func(second string) []byte {
		return []byte(fmt.Sprintf(`{"name":"a","calibration":{"temperature":0.65,"second_reader":%s}}`, second))
	}
	light := sc.WithShare(0.2) // another share than the shipped card's
	if light.Share() >= sc.Share()-0.01 {
		t.Fatalf("shipped second reader's share %g: the test wants more than 0.2", sc.Share())
	}
	byHand, err := recognize.NewSecondReader(ms[0], sc.Temperature, sc.ConsultBelow, light.Weight)
	for i, m := range light.More {
		if err == nil {
			byHand, err = byHand.With(ms[i+1], m.Temperature, m.Weight)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := onnxrec.New(assets.Model(), card(secondJSON(t, sc)), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	atCard, err := onnxrec.New(assets.Model(), card(secondJSON(t, light)), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	manual, err := onnxrec.New(assets.Model(), card(secondJSON(t, light)), recognize.Config{Second: byHand})
	if err != nil {
		t.Fatal(err)
	}
	partial, err := onnxrec.New(assets.Model(), card(fmt.Sprintf(`{"sha256":%q}`, sc.SHA256)), recognize.Config{})
	if err != nil {
		t.Fatal(err)
	}
	consulted, moved := 0, 0
	for i := range 20 {
		img, _, err := synth.SetSheet(synth.ValWriters, synth.Codes5, 11, i, 100)
		if err != nil {
			t.Fatal(err)
		}
		var rs [4]*recognize.Result
		for k, r := range []*recognize.Recognizer{shipped, atCard, manual, partial} {
			if rs[k], err = r.Image(img, recognize.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range rs[3].Digits {
			if len(sc.More) > 0 && d.Second {
				t.Fatalf("code %d: a card naming only the first of %d second-reader models consulted it", i, 1+len(sc.More))
			}
		}
		if len(rs[1].Digits) != len(rs[2].Digits) {
			t.Fatalf("code %d: card's settings read %d digits, the same settings by hand %d", i, len(rs[1].Digits), len(rs[2].Digits))
		}
		for d := range rs[1].Digits {
			a, b := rs[1].Digits[d], rs[2].Digits[d]
			if a.Second != b.Second || fmt.Sprint(a.Probs) != fmt.Sprint(b.Probs) {
				t.Fatalf("code %d digit %d: card's settings read %v (consulted %v), by hand %v (%v)", i, d, a.Probs, a.Second, b.Probs, b.Second)
			}
			if !a.Second {
				continue
			}
			consulted++
			if len(rs[0].Digits) == len(rs[1].Digits) && fmt.Sprint(rs[0].Digits[d].Probs) != fmt.Sprint(a.Probs) {
				moved++
			}
		}
	}
	if consulted == 0 || moved == 0 {
		t.Fatalf("%d digits consulted, %d of them read otherwise at the shipped shares: want some of each", consulted, moved)
	}
}
