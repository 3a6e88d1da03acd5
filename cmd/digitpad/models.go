package main

import (
	"fmt"
	"os"
	"strings"

	"digitpad/assets"
	"digitpad/shared/recognize/onnxrec"
)

// loadModel reads an ONNX file (and the model card beside it, FILE with .json instead of .onnx, if present), or
// the embedded shipped model's variant (fp32, int8, fp16) when path is empty.
func loadModel(path, variant string) (*onnxrec.Model, error) {
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
	m, err := onnxrec.Load(data, cardJSON)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", orEmbedded(path), err)
	}
	return m, nil
}

func orEmbedded(path string) string {
	if path == "" {
		return "(embedded)"
	}
	return path
}
