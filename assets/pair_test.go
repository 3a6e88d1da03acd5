//go:build !js

package assets_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"digitpad/assets"
)

// The pair reader's card names the models that ship beside it: a retrained pair copied into assets/ without its
// card would otherwise go unnoticed.
func TestPairCard_DescribesTheShippedModels(t *testing.T) {
	b, err := os.ReadFile("pair.json")
	if err != nil {
		t.Fatal(err)
	}
	var card struct {
		SHA256 map[string]string `json:"sha256"`
	}
	if err := json.Unmarshal(b, &card); err != nil {
		t.Fatalf("pair.json: %v", err)
	}
	left, right := assets.Pair()
	for side, m := range map[string][]byte{"left": left, "right": right} {
		sum := sha256.Sum256(m)
		if got := hex.EncodeToString(sum[:]); card.SHA256[side] != got {
			t.Errorf("pair.json sha256.%s = %q, the shipped model's is %s", side, card.SHA256[side], got)
		}
	}
}
