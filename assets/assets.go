// Package assets embeds the shipped digit model and its model card, so every shell works with no files around.
package assets

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

//go:embed model.onnx
var model []byte

//go:embed model.json
var card []byte

// Model returns the shipped ONNX model bytes. Callers must not modify them.
func Model() []byte { return model }

// ModelCard returns the shipped model card (JSON).
func ModelCard() []byte { return card }

// Card is the part of a model card the shells need; the full card has training details and metrics.
type Card struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	// InputScale multiplies 0..1 ink before the model (1 for digitpad's models, 255 for the ONNX zoo MNIST model).
	InputScale float32 `json:"input_scale,omitempty"`
}

// ParseCard reads the fields of a model card JSON that the shells need. The sha256 is always recomputed from the
// model bytes, so a stale card cannot misname a model.
func ParseCard(cardJSON, modelBytes []byte) (Card, error) {
	var c Card
	if len(cardJSON) > 0 {
		if err := json.Unmarshal(cardJSON, &c); err != nil {
			return c, fmt.Errorf("model card: %w", err)
		}
	}
	sum := sha256.Sum256(modelBytes)
	c.SHA256 = hex.EncodeToString(sum[:])
	if c.InputScale == 0 {
		c.InputScale = 1
	}
	if c.Name == "" {
		c.Name = "digitpad-" + c.SHA256[:12]
	}
	return c, nil
}
