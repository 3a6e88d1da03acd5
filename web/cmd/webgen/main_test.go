package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestRun_WritesManifestWithModelHashAndCard(t *testing.T) {
	dir := t.TempDir()
	model := []byte("not really onnx, only hashed")
	mustWrite(t, filepath.Join(dir, "m.onnx"), model)
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
	sum := sha256.Sum256(model)
	want := ManifestModel{URL: "model.onnx", SHA256: hex.EncodeToString(sum[:]), Name: "tiny", InputScale: 255}
	if m.Model != want {
		t.Errorf("model = %+v, want %+v", m.Model, want)
	}
	if got, err := os.ReadFile(filepath.Join(out, "model.onnx")); err != nil || string(got) != string(model) {
		t.Errorf("copied model = %q, %v", got, err)
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
