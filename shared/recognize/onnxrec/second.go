//go:build !js

package onnxrec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"digitpad/assets"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
)

// SecondCard is what the recogniser takes from the second reader's card (assets/second.json).
type SecondCard struct {
	// SHA256 is the ONNX model's; SecondModel checks it.
	SHA256 string `json:"sha256"`
	// Temperature calibrates the model's probabilities (`digitpad calibrate --second-card` fits it on the
	// validation digits it is consulted on).
	Temperature float64 `json:"temperature"`
	// ConsultBelow is the digit model's calibrated confidence under which a digit is consulted
	// (recognize.NewSecondReader).
	ConsultBelow float64 `json:"consult_below"`
	// Weight is the second model's share of the averaged probabilities (recognize.NewSecondReader).
	Weight float64 `json:"weight"`
}

// SecondModel compiles the shipped second reader (assets.Second) and parses its card; the card must name the
// model's sha256.
func SecondModel() (*model.Model, SecondCard, error) {
	b, cardJSON := assets.Second()
	var c SecondCard
	if err := json.Unmarshal(cardJSON, &c); err != nil {
		return nil, c, fmt.Errorf("load second reader: card: %w", err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); c.SHA256 != got {
		return nil, c, fmt.Errorf("load second reader: card names sha256 %q, the model's is %s", c.SHA256, got)
	}
	g, err := onnxload.Decode(b)
	if err != nil {
		return nil, c, fmt.Errorf("load second reader: %w", err)
	}
	m, err := model.Compile(g)
	if err != nil {
		return nil, c, fmt.Errorf("load second reader: %w", err)
	}
	return m, c, nil
}

// Reader is m (the card's model) as a second reader at the card's temperature, level and weight.
func (c SecondCard) Reader(m *model.Model) (*recognize.SecondReader, error) {
	return recognize.NewSecondReader(m, c.Temperature, c.ConsultBelow, c.Weight)
}

// SecondReader is the shipped second reader with its card's temperature and level.
func SecondReader() (*recognize.SecondReader, error) {
	m, c, err := SecondModel()
	if err != nil {
		return nil, err
	}
	return c.Reader(m)
}

// shippedSecond is the second reader a recogniser gets unless its config sets one: the shipped one when the model
// card's confirm policies were fitted with it (its calibration names the second reader's sha256), at the settings
// the card records (a zero setting is the second reader's own card's), else none.
func shippedSecond(card assets.Card) (*recognize.SecondReader, error) {
	cs := card.Calibration.Second
	at := SecondCard{SHA256: cs.SHA256, Temperature: cs.Temperature, ConsultBelow: cs.ConsultBelow, Weight: cs.Weight}
	if at.SHA256 == "" {
		return nil, nil
	}
	m, c, err := SecondModel()
	if err != nil || c.SHA256 != at.SHA256 {
		return nil, err
	}
	return c.At(at).Reader(m)
}

// At is c with the non-zero settings of at (a model card's record of the settings its confirm policies were
// fitted at).
func (c SecondCard) At(at SecondCard) SecondCard {
	if at.Temperature != 0 {
		c.Temperature = at.Temperature
	}
	if at.ConsultBelow != 0 {
		c.ConsultBelow = at.ConsultBelow
	}
	if at.Weight != 0 {
		c.Weight = at.Weight
	}
	return c
}
