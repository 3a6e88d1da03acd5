package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"digitpad/assets"
	"digitpad/shared/model"
)

func TestRun_WritesGraphFileAndManifestWithHashesAndCard(t *testing.T) {
	dir := t.TempDir()
	onnxBytes := assets.Model()
	mustWrite(t, filepath.Join(dir, "m.onnx"), onnxBytes)
	mustWrite(t, filepath.Join(dir, "m.json"), []byte(`{"name": "tiny", "input_scale": 255}`))
	out := filepath.Join(dir, "gen")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(out, "app.wasm"), []byte("\x00asm"))

	if err := run([]string{"-model", filepath.Join(dir, "m.onnx"), "-out", out}); err != nil {
		t.Fatal(err)
	}
	var m Manifest
	raw, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	graph, err := os.ReadFile(filepath.Join(out, "model.graph"))
	if err != nil {
		t.Fatal(err)
	}
	sum, gsum := sha256.Sum256(onnxBytes), sha256.Sum256(graph)
	want := ManifestModel{URL: "model.graph", SHA256: hex.EncodeToString(sum[:]), GraphSHA256: hex.EncodeToString(gsum[:]),
		Name: "tiny", Card: assets.Card{Name: "tiny", SHA256: hex.EncodeToString(sum[:]), InputScale: 255}}
	if !reflect.DeepEqual(m.Model, want) {
		t.Errorf("model = %+v, want %+v", m.Model, want)
	}
	// The graph file runs like the ONNX file and keeps its identity.
	fromGraph, err := model.LoadGraph(graph)
	if err != nil {
		t.Fatal(err)
	}
	if fromGraph.SHA256() != want.SHA256 {
		t.Errorf("graph model sha256 = %s, want the ONNX file's %s", fromGraph.SHA256(), want.SHA256)
	}
	if _, err := os.Stat(filepath.Join(out, "model.onnx")); !os.IsNotExist(err) {
		t.Errorf("model.onnx in the generated folder (stat: %v): the page ships only the graph file", err)
	}
}

func TestRun_NotONNXIsAnError(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "m.onnx"), []byte("not onnx"))
	mustWrite(t, filepath.Join(dir, "app.wasm"), []byte("\x00asm"))
	if err := run([]string{"-model", filepath.Join(dir, "m.onnx"), "-out", dir}); err == nil {
		t.Error("want an error for bytes onnx-go cannot decode")
	}
}

func TestRun_MissingWasmIsAnError(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "m.onnx"), []byte("x"))
	if err := run([]string{"-model", filepath.Join(dir, "m.onnx"), "-out", dir}); err == nil {
		t.Error("want an error when app.wasm has not been built")
	}
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
