// Command webgen fills the pad's generated folder (web/static/gen) next to the wasm that `make web` builds: it
// decodes the ONNX model with onnx-go (shared/model/onnxload) into a model graph file (model.graph: the browser's
// wasm does not link onnx-go), copies the model card and writes manifest.json, which tells the recognition
// worker the model's identity (the ONNX sha256), the graph file's sha256 (its cache key), name and input scale.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"digitpad/assets"
	"digitpad/shared/model/onnxload"
)

// Manifest is gen/manifest.json; URLs are relative to gen/.
type Manifest struct {
	Wasm       string        `json:"wasm"`
	WasmSHA256 string        `json:"wasm_sha256"`
	Model      ManifestModel `json:"model"`
}

// ManifestModel describes the model the worker loads.
type ManifestModel struct {
	URL         string `json:"url"`          // the graph file
	SHA256      string `json:"sha256"`       // the ONNX file's: the model's identity
	GraphSHA256 string `json:"graph_sha256"` // the graph file's bytes: cache key and integrity check
	Name        string `json:"name"`
	// Card is the model card's part that configures the recogniser (input scale, calibration): the worker
	// hands it to the bridge's load, as it hands the server's card after a model swap, so both configure the
	// recogniser by the one rule (recognize.Calibration).
	Card assets.Card `json:"card"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "webgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("webgen", flag.ContinueOnError)
	modelPath := fl.String("model", "assets/model.onnx", "ONNX model to ship with the pad")
	cardPath := fl.String("card", "", "model card JSON (default: the model path with .json)")
	out := fl.String("out", "web/static/gen", "generated folder; must already hold app.wasm")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *cardPath == "" {
		*cardPath = (*modelPath)[:len(*modelPath)-len(filepath.Ext(*modelPath))] + ".json"
	}
	model, err := os.ReadFile(*modelPath)
	if err != nil {
		return fmt.Errorf("read model: %w", err)
	}
	card, err := os.ReadFile(*cardPath)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read model card: %w", err)
	}
	c, err := assets.ParseCard(card, model)
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(filepath.Join(*out, "app.wasm"))
	if err != nil {
		return fmt.Errorf("read built wasm: %w", err)
	}
	graph, err := onnxload.GraphFile(model)
	if err != nil {
		return fmt.Errorf("%s: %w", *modelPath, err)
	}
	ws := sha256.Sum256(wasm)
	gs := sha256.Sum256(graph)
	m := Manifest{
		Wasm:       "app.wasm",
		WasmSHA256: hex.EncodeToString(ws[:]),
		Model: ManifestModel{URL: "model.graph", SHA256: c.SHA256, GraphSHA256: hex.EncodeToString(gs[:]),
			Name: c.Name, Card: c},
	}
	if err := os.WriteFile(filepath.Join(*out, "model.graph"), graph, 0o644); err != nil {
		return fmt.Errorf("write model graph: %w", err)
	}
	if err := os.Remove(filepath.Join(*out, "model.onnx")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove the ONNX file of an older build: %w", err)
	}
	if card != nil {
		if err := os.WriteFile(filepath.Join(*out, "model.json"), card, 0o644); err != nil {
			return fmt.Errorf("copy model card: %w", err)
		}
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "manifest.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	fmt.Printf("webgen: model %s (%s, input scale %g) -> %s\n", c.Name, c.SHA256[:12], c.InputScale, *out)
	return nil
}
