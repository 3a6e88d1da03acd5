// Command golden writes test cases for check.mjs: for each ONNX model, a few inputs (MNIST test digits and
// synthetic images) with the outputs digitpad's runtime computes, so onnxruntime can be compared against it.
// With -zoo it also quantises the ONNX zoo MNIST model shipped in onnx-go to int8 and fp16 (calibrated on the
// MNIST training set) and adds those, so the check covers freshly written files, not only the shipped ones.
//
//	go run ./quantize/ort-check/golden -out DIR [-zoo] [MODEL.onnx[:INPUT_SCALE] ...]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"digitpad/internal/zoo"
	"digitpad/quantize"
	"digitpad/shared/model/onnxload"
	"digitpad/train/mnist"
)

// testCase is one JSON file for check.mjs.
type testCase struct {
	Model  string    `json:"model"`
	Shape  []int     `json:"shape"`
	Input  []float32 `json:"input"`
	Output []float32 `json:"output"`
	// Tolerances: |ort - ours| <= atol + rtol*|ours|, and the arg-max per sample must agree.
	ATol float64 `json:"atol"`
	RTol float64 `json:"rtol"`
}

func main() {
	out := flag.String("out", "", "directory for the case files (and quantised zoo models)")
	zoo := flag.Bool("zoo", false, "also quantise the ONNX zoo MNIST model to int8 and fp16 and check those")
	flag.Parse()
	if err := run(*out, *zoo, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "golden:", err)
		os.Exit(1)
	}
}

func run(out string, withZoo bool, models []string) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	ctx := context.Background()
	dir, err := mnist.Locate(ctx, "")
	if err != nil {
		return err
	}
	test, err := mnist.LoadTest(dir)
	if err != nil {
		return err
	}
	if withZoo {
		src, err := zoo.Model()
		if err != nil {
			return err
		}
		p := filepath.Join(out, "zoo.onnx")
		if err := os.WriteFile(p, src, 0o644); err != nil {
			return err
		}
		models = append(models, p+":255")
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		for _, to := range []string{"int8", "fp16"} {
			dst := filepath.Join(out, "zoo-"+to+".onnx")
			c := quantize.Config{To: to, Calib: 500, Val: 5000, InputScale: 255, In: p, Out: dst}
			if _, err := quantize.Run(ctx, c, log); err != nil {
				return err
			}
			models = append(models, dst+":255")
		}
	}
	for i, spec := range models {
		path, scale := spec, float32(1)
		if p, s, ok := strings.Cut(spec, ":"); ok {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return fmt.Errorf("%s: bad input scale: %w", spec, err)
			}
			path, scale = p, float32(v)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m, err := onnxload.Load(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		const n = 6
		in := make([]float32, n*m.InputSize())
		for s := 0; s < 4; s++ {
			img := test.Image(s * 101)
			for j, v := range img {
				in[s*m.InputSize()+j] = v * scale
			}
		}
		for j := 4 * m.InputSize(); j < len(in); j++ { // a faint noisy square and a blank image
			if j < 5*m.InputSize() && (j%28 > 6 && j%28 < 20) {
				in[j] = scale * float32(j%13) / 13
			}
		}
		res := make([]float32, n*m.OutputSize())
		if err := m.Run(in, n, res); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		tc := testCase{Model: abs, Shape: append([]int{n}, m.InputShape()...), Input: in, Output: res, ATol: 1e-4, RTol: 1e-4}
		if strings.Contains(filepath.Base(path), "int8") {
			// onnxruntime may round a requantised activation the other way at a .5 tie: a step of one
			// quantum that the next layers spread out a little.
			tc.ATol, tc.RTol = 2e-2, 2e-2
		}
		js, err := json.Marshal(tc)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("case%02d-%s.json", i, strings.TrimSuffix(filepath.Base(path), ".onnx"))
		if err := os.WriteFile(filepath.Join(out, name), js, 0o644); err != nil {
			return err
		}
	}
	return nil
}
