package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"digitpad/shared/recognize"
	"digitpad/train/mnist"
)

// evalResult is the JSON printed by `digitpad eval --json`.
type evalResult struct {
	Model    string  `json:"model"`
	SHA256   string  `json:"sha256"`
	Data     string  `json:"data"`
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	// DigitAccuracy counts digits of codes whose segmentation found the right number of digits; equal to
	// Accuracy on MNIST.
	DigitAccuracy float64 `json:"digit_accuracy"`
	// Confusion[true][predicted] counts digits.
	Confusion [10][10]int `json:"confusion"`
	PerClass  [10]float64 `json:"per_class_accuracy"`
	Errors    int         `json:"errors,omitempty"`
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval [--model FILE] [--data mnist-test | DIR] [--mnist DIR] [--json]", stderr)
	modelPath := fs.String("model", "", "ONNX model file, or models:/NAME@ALIAS or models:/NAME/VERSION from --registry (default: the embedded shipped model)")
	variant := fs.String("variant", "fp32", "model variant (embedded model or models:/ URI): fp32, int8 or fp16")
	rf := addRegistryFlags(fs)
	data := fs.String("data", "mnist-test", "mnist-test (the 10,000 MNIST test digits), or a folder with labels.csv (file,code) and canvas images")
	mnistDir := fs.String("mnist", "", "folder with the MNIST idx files (default: found in the GoMNIST Go module)")
	format := fs.String("format", "", "code format for folder data (see predict)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lm, err := loadModelFrom(ctx, *modelPath, *variant, rf)
	if err != nil {
		return err
	}
	rec, err := lm.Recognizer(recognize.Config{Format: *format})
	if err != nil {
		return err
	}
	res := evalResult{Model: lm.Card.Name, SHA256: lm.Card.SHA256, Data: *data}
	if *data == "mnist-test" {
		dir, err := mnist.Locate(ctx, *mnistDir)
		if err != nil {
			return err
		}
		set, err := mnist.LoadTest(dir)
		if err != nil {
			return err
		}
		err = evalMNIST(ctx, rec, set, &res)
		if err != nil {
			return err
		}
	} else if err := evalFolder(ctx, rec, *data, &res); err != nil {
		return err
	}
	for c := range 10 {
		total := 0
		for p := range 10 {
			total += res.Confusion[c][p]
		}
		if total > 0 {
			res.PerClass[c] = float64(res.Confusion[c][c]) / float64(total)
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "model %s (%s)\ndata %s: %d items, accuracy %.4f%%, digit accuracy %.4f%%",
		res.Model, res.SHA256[:12], res.Data, res.N, 100*res.Accuracy, 100*res.DigitAccuracy)
	if res.Errors > 0 {
		fmt.Fprintf(stdout, ", %d unreadable", res.Errors)
	}
	fmt.Fprintln(stdout, "\nconfusion (rows: true digit, columns: predicted):")
	fmt.Fprint(stdout, "     ")
	for p := range 10 {
		fmt.Fprintf(stdout, "%6d", p)
	}
	fmt.Fprintln(stdout)
	for c := range 10 {
		fmt.Fprintf(stdout, "%4d ", c)
		for p := range 10 {
			fmt.Fprintf(stdout, "%6d", res.Confusion[c][p])
		}
		fmt.Fprintf(stdout, "   %.2f%%\n", 100*res.PerClass[c])
	}
	return nil
}

// evalMNIST classifies normalised MNIST digits directly (no segmentation), in chunks spread over all cores.
func evalMNIST(ctx context.Context, rec *recognize.Recognizer, set *mnist.Set, res *evalResult) error {
	const chunk = 256
	chunks := (set.Len() + chunk - 1) / chunk
	type chunkResult struct {
		pred []int
		err  error
	}
	var firstErr error
	err := forEachOrdered(ctx, chunks, runtime.GOMAXPROCS(0), func(c int) chunkResult {
		from, to := c*chunk, min(set.Len(), (c+1)*chunk)
		inputs := make([][784]float32, to-from)
		for i := range inputs {
			copy(inputs[i][:], set.Image(from+i))
		}
		r, err := rec.Digits(inputs, recognize.Options{})
		if err != nil {
			return chunkResult{err: err}
		}
		out := make([]int, len(r.Digits))
		for i, d := range r.Digits {
			out[i] = d.Digit
		}
		return chunkResult{pred: out}
	}, func(cr chunkResult) error {
		if cr.err != nil && firstErr == nil {
			firstErr = cr.err
		}
		for _, p := range cr.pred {
			t := int(set.Labels[res.N])
			res.Confusion[t][p]++
			res.N++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}
	if res.N != set.Len() {
		return fmt.Errorf("eval: classified %d of %d digits", res.N, set.Len())
	}
	correct := 0
	for c := range 10 {
		correct += res.Confusion[c][c]
	}
	res.Accuracy = float64(correct) / float64(res.N)
	res.DigitAccuracy = res.Accuracy
	return nil
}

// evalFolder recognises every image listed in DIR/labels.csv (columns file,code; a header row is allowed).
func evalFolder(ctx context.Context, rec *recognize.Recognizer, dir string, res *evalResult) error {
	f, err := os.Open(filepath.Join(dir, "labels.csv"))
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("eval: labels.csv: %w", err)
	}
	type item struct{ file, code string }
	var items []item
	for i, r := range rows {
		if len(r) < 2 {
			return fmt.Errorf("eval: labels.csv line %d: want file,code", i+1)
		}
		code := strings.TrimSpace(r[1])
		if i == 0 && strings.EqualFold(strings.TrimSpace(r[0]), "file") {
			continue
		}
		if code == "" || strings.Trim(code, "0123456789") != "" {
			return fmt.Errorf("eval: labels.csv line %d: code %q is not digits", i+1, code)
		}
		items = append(items, item{filepath.Join(dir, strings.TrimSpace(r[0])), code})
	}
	if len(items) == 0 {
		return errors.New("eval: labels.csv lists no images")
	}
	codesRight, digitsSeen, digitsRight := 0, 0, 0
	err = forEachOrdered(ctx, len(items), runtime.GOMAXPROCS(0), func(i int) *recognize.Result {
		img, err := readImage(items[i].file)
		if err != nil {
			return nil
		}
		r, err := rec.Image(img, recognize.Options{})
		if err != nil {
			return nil
		}
		return r
	}, func(r *recognize.Result) error {
		it := items[res.N]
		res.N++
		if r == nil {
			res.Errors++
			return nil
		}
		if r.Code == it.code {
			codesRight++
		}
		if len(r.Digits) == len(it.code) {
			for i, d := range r.Digits {
				t := int(it.code[i] - '0')
				res.Confusion[t][d.Digit]++
				digitsSeen++
				if t == d.Digit {
					digitsRight++
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.Accuracy = float64(codesRight) / float64(res.N)
	if digitsSeen > 0 {
		res.DigitAccuracy = float64(digitsRight) / float64(digitsSeen)
	}
	return nil
}
