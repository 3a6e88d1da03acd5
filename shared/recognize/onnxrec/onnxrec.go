// Package onnxrec turns ONNX bytes and a model card into a recognize.Recognizer: the one way native programs
// (the CLI, the server, the kiosk, the model registry) load a model, so the card's name, sha256 and input scale
// are applied in one place. It links onnx-go through onnxload, so the browser's wasm never imports it: the
// browser gets graph files (shared/model/graphfile.go) and web/deps_test.go keeps the decoder out of its build.
package onnxrec

import (
	"fmt"

	"digitpad/assets"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
)

// Model is a compiled model and the card that names it.
type Model struct {
	Model *model.Model
	// Card is the parsed model card: Name (default "digitpad-" + sha256 prefix), SHA256 (always of the ONNX
	// bytes) and InputScale (default 1).
	Card assets.Card
}

// Load parses the card (nil or empty: defaults, see assets.ParseCard) and compiles the ONNX bytes with a tap on the
// penultimate value (see compileTapped).
func Load(onnx, card []byte) (*Model, error) {
	c, err := assets.ParseCard(card, onnx)
	if err != nil {
		return nil, err
	}
	g, err := onnxload.Decode(onnx)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", c.SHA256[:12], err)
	}
	m, err := compileTapped(g)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", c.SHA256[:12], err)
	}
	return &Model{Model: m, Card: c}, nil
}

// compileTapped compiles g with a tap on its penultimate value (model.Penultimate), so every recognition also
// yields the digits' embeddings for drift monitoring (recognize.Result.Embeddings) at the cost of one copy; a
// graph without one (or whose penultimate value is quantised) compiles without a tap.
func compileTapped(g *model.Graph) (*model.Model, error) {
	if tap, err := model.Penultimate(g); err == nil {
		if m, err := model.Compile(g, model.WithTap(tap)); err == nil {
			return m, nil
		}
	}
	return model.Compile(g)
}

// Recognizer builds a recogniser around the model. The card decides the model's identity (ModelInfo) and its
// input scale, whatever cfg.InputScale says; cfg supplies the rest (format, threshold, ink options). Unless cfg
// sets one, the shipped pair reader (assets.Pair) reads pieces that hold two touching digits, and, in native
// builds, the shipped second reader (assets.Second) reads again the digits in doubt when the card's confirm
// policies were fitted with it (its calibration names the second reader's models' sha256s), at the temperatures,
// level and weights the card states: a threshold holds for the reading it was chosen on, and a card fitted without
// it (or a bare model) is read without it. A reader left without the second reader takes the card's calibration
// without it when the card states one (assets.Card.Configure).
func (m *Model) Recognizer(cfg recognize.Config) (*recognize.Recognizer, error) {
	if cfg.Pair == nil {
		p, err := shippedPair()
		if err != nil {
			return nil, err
		}
		cfg.Pair = p
	}
	if cfg.Second == nil {
		s, err := shippedSecond(m.Card)
		if err != nil {
			return nil, err
		}
		cfg.Second = s
	}
	// Input scale, calibrated temperature and confirm policy, of the reading with or without the second reader.
	cfg = m.Card.Configure(cfg)
	r, err := recognize.New(m.Model, recognize.ModelInfo{Name: m.Card.Name, SHA256: m.Card.SHA256}, cfg)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.Card.Name, err)
	}
	return r, nil
}

// New is Load followed by Recognizer.
func New(onnx, card []byte, cfg recognize.Config) (*recognize.Recognizer, error) {
	m, err := Load(onnx, card)
	if err != nil {
		return nil, err
	}
	return m.Recognizer(cfg)
}
