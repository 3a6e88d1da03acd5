package quantize_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"digitpad/shared/model/onnxload"
)

// The shipped variants must be made from the shipped model: after retraining, `make quantize-assets`.
func TestShippedVariants_ComeFromShippedModel(t *testing.T) {
	src, err := os.ReadFile("../assets/model.onnx")
	if err != nil {
		t.Fatalf("shipped model: %v", err)
	}
	sum := sha256.Sum256(src)
	want := hex.EncodeToString(sum[:])
	for _, v := range []string{"int8", "fp16"} {
		t.Run(v, func(t *testing.T) {
			b, err := os.ReadFile("../assets/model-" + v + ".onnx")
			if errors.Is(err, os.ErrNotExist) {
				t.Fatalf("assets/model-%s.onnx is missing: run make quantize-assets", v)
			}
			if err != nil {
				t.Fatal(err)
			}
			var card struct {
				Variant string `json:"variant"`
				SHA256  string `json:"sha256"`
				Source  struct {
					SHA256 string `json:"sha256"`
				} `json:"source"`
			}
			cb, err := os.ReadFile("../assets/model-" + v + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(cb, &card); err != nil {
				t.Fatal(err)
			}
			if card.Source.SHA256 != want {
				t.Errorf("model-%s.json source sha256 %s, assets/model.onnx is %s: variant is stale, run make quantize-assets", v, card.Source.SHA256, want)
			}
			got := sha256.Sum256(b)
			if card.Variant != v || card.SHA256 != hex.EncodeToString(got[:]) {
				t.Errorf("model-%s.json names variant %q sha256 %s, file has %s", v, card.Variant, card.SHA256, hex.EncodeToString(got[:]))
			}
			if _, err := onnxload.Load(b); err != nil {
				t.Errorf("loading model-%s.onnx: %v", v, err)
			}
		})
	}
}
