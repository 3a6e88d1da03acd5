//go:build !js

package assets_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"digitpad/assets"
	"digitpad/shared/recognize/onnxrec"
)

// The second reader's card names the model that ships beside it, and every shipped model card's confirm policy
// was fitted with that model and the card's temperature: a retrained second reader copied into assets/ without
// `make calibrate-assets` would otherwise go unnoticed.
func TestSecondCard_DescribesTheShippedModel(t *testing.T) {
	b, cardJSON := assets.Second()
	var card onnxrec.SecondCard
	if err := json.Unmarshal(cardJSON, &card); err != nil {
		t.Fatalf("second.json: %v", err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); card.SHA256 != got {
		t.Errorf("second.json sha256 = %q, the shipped model's is %s", card.SHA256, got)
	}
	// Each further model ships with a card of its own that names it, as second.json does.
	for _, m := range card.More {
		mb := assets.Reader(m.File)
		if mb == nil {
			t.Errorf("second.json names %s, which does not ship", m.File)
			continue
		}
		sum := sha256.Sum256(mb)
		if got := hex.EncodeToString(sum[:]); m.SHA256 != got {
			t.Errorf("second.json: %s sha256 = %q, the shipped model's is %s", m.File, m.SHA256, got)
		}
		cb, err := os.ReadFile(strings.TrimSuffix(m.File, ".onnx") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var own struct {
			File   string `json:"file"`
			SHA256 string `json:"sha256"`
		}
		if err := json.Unmarshal(cb, &own); err != nil || own.File != m.File || own.SHA256 != m.SHA256 {
			t.Errorf("%s's card names %q %q (%v), want %q %q", m.File, own.File, own.SHA256, err, m.File, m.SHA256)
		}
	}
	for _, f := range []string{"model.json", "model-int8.json", "model-fp16.json"} {
		mb, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var mc struct {
			Calibration struct {
				Second *onnxrec.SecondCard `json:"second_reader"`
			} `json:"calibration"`
		}
		if err := json.Unmarshal(mb, &mc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		s := mc.Calibration.Second
		if s == nil {
			t.Errorf("%s: the confirm policy names no second reader (make calibrate-assets)", f)
			continue
		}
		if !reflect.DeepEqual(*s, card) {
			t.Errorf("%s: fitted with second reader %+v, second.json has %+v", f, *s, card)
		}
	}
}
