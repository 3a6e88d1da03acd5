//go:build !js

package onnxrec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"digitpad/assets"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
)

// SecondCard is what the recogniser takes from the second reader's card (assets/second.json).
type SecondCard struct {
	// SHA256 is the ONNX model's; SecondModels checks it.
	SHA256 string `json:"sha256"`
	// Temperature calibrates the model's probabilities (`digitpad calibrate --second-card` fits it on the
	// validation digits it is consulted on).
	Temperature float64 `json:"temperature"`
	// ConsultBelow is the digit model's calibrated confidence under which a digit is consulted
	// (recognize.NewSecondReader).
	ConsultBelow float64 `json:"consult_below"`
	// Weight is the second model's share of the averaged probabilities (recognize.NewSecondReader).
	Weight float64 `json:"weight"`
	// More are further models trained apart, read on the same digits and averaged with their own temperature and
	// share (recognize.SecondReader.With); their files ship beside second.onnx (assets.Reader). None: the second
	// model alone.
	More []MoreReader `json:"more_readers,omitempty"`
}

// MoreReader is one further model of the second reader's card.
type MoreReader struct {
	// File is the ONNX file in assets/ (assets.Reader); SHA256 is its hash, which SecondModels checks.
	File        string  `json:"file"`
	SHA256      string  `json:"sha256"`
	Temperature float64 `json:"temperature"`
	Weight      float64 `json:"weight"`
}

// SHA256s names the card's models in the order they are read: the second model's, then More's.
func (c SecondCard) SHA256s() []string {
	out := []string{c.SHA256}
	for _, m := range c.More {
		out = append(out, m.SHA256)
	}
	return out
}

// SecondModels compiles the shipped second reader's models (assets.Second, then the files its card's
// more_readers name) and parses its card; the card must name each model's sha256.
func SecondModels() ([]*model.Model, SecondCard, error) {
	b, cardJSON := assets.Second()
	var c SecondCard
	if err := json.Unmarshal(cardJSON, &c); err != nil {
		return nil, c, fmt.Errorf("load second reader: card: %w", err)
	}
	files := [][]byte{b}
	for _, m := range c.More {
		mb := assets.Reader(m.File)
		if mb == nil {
			return nil, c, fmt.Errorf("load second reader: card names %s, which does not ship", m.File)
		}
		files = append(files, mb)
	}
	var ms []*model.Model
	for i, want := range c.SHA256s() {
		sum := sha256.Sum256(files[i])
		if got := hex.EncodeToString(sum[:]); want != got {
			return nil, c, fmt.Errorf("load second reader: card names sha256 %q, the model's is %s", want, got)
		}
		g, err := onnxload.Decode(files[i])
		if err != nil {
			return nil, c, fmt.Errorf("load second reader: %w", err)
		}
		m, err := model.Compile(g)
		if err != nil {
			return nil, c, fmt.Errorf("load second reader: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, c, nil
}

// Reader is ms (the card's models, in SHA256s order) as a second reader at the card's temperatures, level and
// weights.
func (c SecondCard) Reader(ms []*model.Model) (*recognize.SecondReader, error) {
	if len(ms) != 1+len(c.More) {
		return nil, fmt.Errorf("second reader: %d models for a card of %d", len(ms), 1+len(c.More))
	}
	r, err := recognize.NewSecondReader(ms[0], c.Temperature, c.ConsultBelow, c.Weight)
	for i, m := range c.More {
		if err != nil {
			break
		}
		r, err = r.With(ms[i+1], m.Temperature, m.Weight)
	}
	return r, err
}

// SecondReader is the shipped second reader with its card's temperatures, level and weights.
func SecondReader() (*recognize.SecondReader, error) {
	ms, c, err := SecondModels()
	if err != nil {
		return nil, err
	}
	return c.Reader(ms)
}

// shippedSecond is the second reader a recogniser gets unless its config sets one: the shipped one when the model
// card's confirm policies were fitted with it (its calibration names the shipped second reader's models' sha256s,
// in order), at the settings the card records (a zero setting is the second reader's own card's), else none.
func shippedSecond(card assets.Card) (*recognize.SecondReader, error) {
	named := card.SecondReaders()
	if len(named) == 0 {
		return nil, nil
	}
	ms, c, err := SecondModels()
	if err != nil || !slices.Equal(c.SHA256s(), named) {
		return nil, err
	}
	return c.At(card.Calibration.Second).Reader(ms)
}

// WithShare is c with its models' shares scaled to sum to total, in the same proportions: how much of a consulted
// digit's averaged probabilities the second reader's models decide together (the digit model keeps 1 - total).
func (c SecondCard) WithShare(total float64) SecondCard {
	sum := c.Weight
	for _, m := range c.More {
		sum += m.Weight
	}
	if sum <= 0 {
		return c
	}
	k := total / sum
	c.Weight *= k
	c.More = slices.Clone(c.More)
	for i := range c.More {
		c.More[i].Weight *= k
	}
	return c
}

// Share is the sum of c's models' shares (WithShare).
func (c SecondCard) Share() float64 {
	sum := c.Weight
	for _, m := range c.More {
		sum += m.Weight
	}
	return sum
}

// At is c with the non-zero settings of at (a model card's record of the settings its confirm policies were
// fitted at), model by model; at must name c's models (shippedSecond checks it).
func (c SecondCard) At(at assets.CardSecond) SecondCard {
	if at.Temperature != 0 {
		c.Temperature = at.Temperature
	}
	if at.ConsultBelow != 0 {
		c.ConsultBelow = at.ConsultBelow
	}
	if at.Weight != 0 {
		c.Weight = at.Weight
	}
	c.More = slices.Clone(c.More)
	for i := range min(len(c.More), len(at.More)) {
		if t := at.More[i].Temperature; t != 0 {
			c.More[i].Temperature = t
		}
		if w := at.More[i].Weight; w != 0 {
			c.More[i].Weight = w
		}
	}
	return c
}
