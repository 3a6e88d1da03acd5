package quantize_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"digitpad/quantize"
)

func TestMain_WritesVariantAndCard(t *testing.T) {
	mustMNIST(t) // fails clearly when MNIST is missing
	dir := t.TempDir()
	in := filepath.Join(dir, "zoo.onnx")
	if err := os.WriteFile(in, zooModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	// The source card supplies the name and the input scale (the zoo model takes 0..255).
	if err := os.WriteFile(filepath.Join(dir, "zoo.json"), []byte(`{"name": "zoo", "input_scale": 255}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "zoo-int8.onnx")
	var stdout, stderr bytes.Buffer
	err := quantize.Main(context.Background(), []string{"--to", "int8", "--calib", "300", "--bench-time", "20ms", in, out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Main: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var card map[string]any
	cb, err := os.ReadFile(filepath.Join(dir, "zoo-int8.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cb, &card); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	checks := []struct {
		path string
		want any
	}{
		{"name", "zoo-int8"},
		{"variant", "int8"},
		{"file", "zoo-int8.onnx"},
		{"sha256", hex.EncodeToString(sum[:])},
		{"input_scale", 255.0},
		{"size.bytes", float64(len(b))},
	}
	for _, c := range checks {
		if got := lookup(card, c.path); got != c.want {
			t.Errorf("card %s = %v, want %v", c.path, got, c.want)
		}
	}
	for _, p := range []string{"metrics.mnist_test_accuracy", "metrics.pad_like_accuracy", "size.gzip_bytes",
		"latency_us_per_digit.native_batch1", "latency_us_per_digit.native_batch64",
		"comparison.fp32.mnist_test_accuracy", "comparison.int8.native_batch64_us"} {
		if v, ok := lookup(card, p).(float64); !ok || v <= 0 {
			t.Errorf("card %s = %v, want a positive number", p, lookup(card, p))
		}
	}
	if acc := lookup(card, "metrics.mnist_test_accuracy").(float64); acc < 0.98 {
		t.Errorf("int8 zoo accuracy %.4f, want >= 0.98", acc)
	}
	if !strings.Contains(stdout.String(), "zoo-int8.onnx") {
		t.Errorf("stdout %q does not name the output", stdout.String())
	}
}

func lookup(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func TestMain_RejectsBadArguments(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no files", []string{"--to", "int8"}, "want IN.onnx and OUT.onnx"},
		{"unknown variant", []string{"--to", "int4", garbage, filepath.Join(dir, "o.onnx")}, "--to must be int8 or fp16"},
		{"no calibration samples", []string{"--to", "int8", "--calib", "0", garbage, filepath.Join(dir, "o.onnx")}, "--calib 0"},
		{"missing input", []string{"--to", "fp16", filepath.Join(dir, "missing.onnx"), filepath.Join(dir, "o.onnx")}, "no such file"},
		{"input is not ONNX", []string{"--to", "fp16", "--card=false", garbage, filepath.Join(dir, "o.onnx")}, "not an ONNX model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := quantize.Main(context.Background(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Main(%q) error = %v, want it to contain %q", tc.args, err, tc.want)
			}
		})
	}
}
