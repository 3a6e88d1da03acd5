//go:build !js

package assets_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
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
		if *s != card {
			t.Errorf("%s: fitted with second reader %s (T %g, below %g, weight %g), second.json has %s (T %g, below %g, weight %g)",
				f, s.SHA256, s.Temperature, s.ConsultBelow, s.Weight, card.SHA256, card.Temperature, card.ConsultBelow, card.Weight)
		}
	}
}
