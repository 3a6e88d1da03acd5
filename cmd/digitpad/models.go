package main

import (
	"fmt"
	"os"
	"strings"

	"digitpad/assets"
	"digitpad/shared/model"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
)

// loadedModel is a model with its card, ready for recognition.
type loadedModel struct {
	model *model.Model
	card  assets.Card
}

// loadModel reads an ONNX file (and the model card beside it, FILE with .json instead of .onnx, if present), or
// the embedded shipped model's variant (fp32, int8, fp16) when path is empty.
func loadModel(path, variant string) (*loadedModel, error) {
	data, cardJSON := assets.Variant(variant)
	if data == nil {
		return nil, fmt.Errorf("model variant %q: want one of %v", variant, assets.Variants)
	}
	if path != "" {
		var err error
		data, err = os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read model: %w", err)
		}
		cardJSON, err = os.ReadFile(strings.TrimSuffix(path, ".onnx") + ".json")
		if err != nil {
			cardJSON = nil // a bare ONNX file is fine: defaults apply
		}
	}
	card, err := assets.ParseCard(cardJSON, data)
	if err != nil {
		return nil, err
	}
	m, err := onnxload.Load(data)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", orEmbedded(path), err)
	}
	return &loadedModel{model: m, card: card}, nil
}

func orEmbedded(path string) string {
	if path == "" {
		return "(embedded)"
	}
	return path
}

// recognizer builds a recogniser around the model.
func (l *loadedModel) recognizer(format string, threshold float64) (*recognize.Recognizer, error) {
	return recognize.New(l.model, recognize.ModelInfo{Name: l.card.Name, SHA256: l.card.SHA256},
		l.card.Configure(recognize.Config{Format: format, Threshold: threshold}))
}
