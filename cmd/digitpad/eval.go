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
	"strconv"
	"strings"

	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
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
	// ConfirmRate is the share of items (codes) that ask the clerk: a flagged digit (recognize.ConfirmDigits), a
	// format error, or no reading at all.
	ConfirmRate float64 `json:"confirm_rate"`
	// SilentErrorRate is the share of items read wrong without asking: the misrouted parcels.
	SilentErrorRate float64 `json:"silent_error_rate"`
	// DigitConfirmRate and DigitSilentErrorRate are the same per digit, over the digits counted in
	// DigitAccuracy; a digit of a code with a format error counts as asking.
	DigitConfirmRate     float64 `json:"digit_confirm_rate"`
	DigitSilentErrorRate float64 `json:"digit_silent_error_rate"`
	// Split counts items read as a different number of digits than labelled (on canvases of one digit: split
	// into several, or lost).
	Split int `json:"split,omitempty"`
	// Canvas describes how MNIST digits were drawn as canvases (--canvas), empty for raw 28×28 inputs.
	Canvas string `json:"canvas,omitempty"`
}

// tally accumulates one recognised item against its label.
type tally struct {
	codesRight, asked, silent int
	digitsSeen, digitsRight   int
	digitsAsked, digitsSilent int
}

func (t *tally) add(res *evalResult, r *recognize.Result, code string) {
	res.N++
	if r == nil {
		res.Errors++
		t.asked++
		return
	}
	ask := len(r.Confirm) > 0 || r.FormatError != ""
	if ask {
		t.asked++
	}
	if r.Code == code {
		t.codesRight++
	} else if !ask {
		t.silent++
	}
	if len(r.Digits) != len(code) {
		res.Split++
		return
	}
	flagged := make([]bool, len(r.Digits))
	for _, i := range r.Confirm {
		flagged[i] = true
	}
	for i, d := range r.Digits {
		tr := int(code[i] - '0')
		res.Confusion[tr][d.Digit]++
		t.digitsSeen++
		dAsk := flagged[i] || r.FormatError != ""
		if dAsk {
			t.digitsAsked++
		}
		if tr == d.Digit {
			t.digitsRight++
		} else if !dAsk {
			t.digitsSilent++
		}
	}
}

func (t *tally) finish(res *evalResult) {
	if res.N > 0 {
		n := float64(res.N)
		res.Accuracy = float64(t.codesRight) / n
		res.ConfirmRate = float64(t.asked) / n
		res.SilentErrorRate = float64(t.silent) / n
	}
	if t.digitsSeen > 0 {
		n := float64(t.digitsSeen)
		res.DigitAccuracy = float64(t.digitsRight) / n
		res.DigitConfirmRate = float64(t.digitsAsked) / n
		res.DigitSilentErrorRate = float64(t.digitsSilent) / n
	}
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval [--model FILE] [--data mnist-test | DIR] [--mnist DIR] [--json]", stderr)
	modelPath := fs.String("model", "", "ONNX model file, or models:/NAME@ALIAS or models:/NAME/VERSION from --registry (default: the embedded shipped model)")
	variant := fs.String("variant", "fp32", "model variant (embedded model or models:/ URI): fp32, int8 or fp16")
	rf := addRegistryFlags(fs)
	data := fs.String("data", "mnist-test", "mnist-test (the 10,000 MNIST test digits), mnist-val (the last 5,000 MNIST training digits: the validation split training and calibration choose on), or a folder with labels.csv (file,code) and canvas images")
	mnistDir := fs.String("mnist", "", "folder with the MNIST idx files (default: found in the GoMNIST Go module)")
	format := fs.String("format", "", "code format for folder data (see predict)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	canvas := fs.String("canvas", "", "with mnist-test or mnist-val: draw each digit on a canvas WxH[:rgb|grey|inverse] (e.g. 280x280:rgb) and read it through the image pipeline")
	limit := fs.Int("limit", 0, "with mnist-test or mnist-val: only the first N test digits (0 = all)")
	threshold := fs.Float64("threshold", 0, "confirm threshold (0 = the model card's, else the default)")
	itemsPath := fs.String("items", "", "write one line per item to this TSV file (file, label, reading, asked) for error analysis; with mnist-test or mnist-val the file is the digit's index in the set")
	strokes := fs.Bool("strokes", false, "with folder data: read each item's strokes from the JSON file beside its image (same name, .json: a predict request body with strokes, width and height; mkevalset -strokes writes them) instead of the image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lm, err := loadModelFrom(ctx, *modelPath, *variant, rf)
	if err != nil {
		return err
	}
	rec, err := lm.Recognizer(recognize.Config{Format: *format, Threshold: *threshold})
	if err != nil {
		return err
	}
	res := evalResult{Model: lm.Card.Name, SHA256: lm.Card.SHA256, Data: *data}
	var cv *canvasSpec
	if *canvas != "" {
		if cv, err = parseCanvas(*canvas); err != nil {
			return err
		}
		res.Canvas = *canvas
	}
	if *data == "mnist-test" || *data == "mnist-val" {
		dir, err := mnist.Locate(ctx, *mnistDir)
		if err != nil {
			return err
		}
		var set *mnist.Set
		if *data == "mnist-val" {
			var all *mnist.Set
			if all, _, err = mnist.Load(dir); err != nil {
				return err
			}
			set = all.Slice(all.Len()-5000, all.Len())
		} else if set, err = mnist.LoadTest(dir); err != nil {
			return err
		}
		if *limit > 0 && *limit < set.Len() {
			set = set.Slice(0, *limit)
		}
		err = evalMNIST(ctx, rec, set, cv, *itemsPath, &res)
		if err != nil {
			return err
		}
	} else if cv != nil || *limit > 0 {
		return errors.New("eval: --canvas and --limit apply to mnist-test and mnist-val only")
	} else if err := evalFolder(ctx, rec, *data, *itemsPath, *strokes, &res); err != nil {
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
	if res.Split > 0 {
		fmt.Fprintf(stdout, ", %d with the wrong digit count", res.Split)
	}
	fmt.Fprintf(stdout, "\nconfirm rate %.2f%%, silent errors %.2f%% (digits: %.2f%% / %.2f%%)",
		100*res.ConfirmRate, 100*res.SilentErrorRate, 100*res.DigitConfirmRate, 100*res.DigitSilentErrorRate)
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

// evalMNIST classifies normalised MNIST digits directly (no segmentation), in chunks spread over all cores. With a
// canvas, each digit is instead drawn on a canvas of that size and style and read through the image pipeline.
// With itemsPath, each digit's index, label, reading and whether it asks the clerk go to that TSV file.
func evalMNIST(ctx context.Context, rec *recognize.Recognizer, set *mnist.Set, cv *canvasSpec, itemsPath string, res *evalResult) error {
	list, err := createItems(itemsPath)
	if err != nil {
		return err
	}
	defer list.close()
	const chunk = 256
	chunks := (set.Len() + chunk - 1) / chunk
	type chunkResult struct {
		res []*recognize.Result
		err error
	}
	var firstErr error
	var t tally
	err = forEachOrdered(ctx, chunks, runtime.GOMAXPROCS(0), func(c int) chunkResult {
		from, to := c*chunk, min(set.Len(), (c+1)*chunk)
		inputs := make([][784]float32, to-from)
		for i := range inputs {
			copy(inputs[i][:], set.Image(from+i))
		}
		out := make([]*recognize.Result, len(inputs))
		if cv != nil {
			for i := range inputs {
				img, err := synth.Upscale(&inputs[i], cv.w, cv.h, cv.style)
				if err != nil {
					return chunkResult{err: err}
				}
				out[i], _ = rec.Image(img, recognize.Options{}) // no ink counts as an unreadable item
			}
			return chunkResult{res: out}
		}
		r, err := rec.Digits(inputs, recognize.Options{})
		if err != nil {
			return chunkResult{err: err}
		}
		// The batch is one model call, not one code: each digit is a code of its own for the confirm rule.
		for i, d := range r.Digits {
			out[i] = &recognize.Result{Code: string(rune('0' + d.Digit)), Digits: []recognize.Digit{d},
				Confidence: d.Confidence, Confirm: recognize.ConfirmDigits([]float64{d.Confidence}, rec.Threshold())}
		}
		return chunkResult{res: out}
	}, func(cr chunkResult) error {
		if cr.err != nil && firstErr == nil {
			firstErr = cr.err
		}
		for _, r := range cr.res {
			label := string(rune('0' + set.Labels[res.N]))
			if err := list.add(strconv.Itoa(res.N), label, r); err != nil {
				return err
			}
			t.add(res, r, label)
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
	t.finish(res)
	return list.close()
}

// evalFolder recognises every image listed in DIR/labels.csv (columns file,code; a header row is allowed).
// With itemsPath, each item's file, label, reading and whether it asks the clerk go to that TSV file. With
// strokes, each item is read from the strokes in the JSON file beside its image (readStrokes).
func evalFolder(ctx context.Context, rec *recognize.Recognizer, dir, itemsPath string, strokes bool, res *evalResult) error {
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
	list, err := createItems(itemsPath)
	if err != nil {
		return err
	}
	defer list.close()
	var t tally
	err = forEachOrdered(ctx, len(items), runtime.GOMAXPROCS(0), func(i int) *recognize.Result {
		if strokes {
			r, err := readStrokes(rec, items[i].file)
			if err != nil {
				return nil
			}
			return r
		}
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
		if err := list.add(filepath.Base(it.file), it.code, r); err != nil {
			return err
		}
		t.add(res, r, it.code)
		return nil
	})
	if err != nil {
		return err
	}
	t.finish(res)
	return list.close()
}

// itemList is the --items TSV file: a header, then one line per item (file, label, reading, asked: the clerk is
// asked, or nothing was read). The zero path writes nothing.
type itemList struct {
	f *os.File
}

func createItems(path string) (*itemList, error) {
	if path == "" {
		return &itemList{}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("eval: --items: %w", err)
	}
	l := &itemList{f: f}
	if _, err := fmt.Fprintln(f, "file\tlabel\treading\tasked"); err != nil {
		l.close()
		return nil, fmt.Errorf("eval: --items: %w", err)
	}
	return l, nil
}

// add writes item file's line; r is nil for an item that could not be read.
func (l *itemList) add(file, label string, r *recognize.Result) error {
	if l.f == nil {
		return nil
	}
	reading, asked := "", true
	if r != nil {
		reading, asked = r.Code, len(r.Confirm) > 0 || r.FormatError != ""
	}
	if _, err := fmt.Fprintf(l.f, "%s\t%s\t%s\t%v\n", file, label, reading, asked); err != nil {
		return fmt.Errorf("eval: --items: %w", err)
	}
	return nil
}

// close closes the file once (later calls return nil).
func (l *itemList) close() error {
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("eval: --items: %w", err)
	}
	return nil
}

// canvasSpec is a parsed --canvas flag.
type canvasSpec struct {
	w, h  int
	style synth.CanvasStyle
}

func parseCanvas(s string) (*canvasSpec, error) {
	size, style, _ := strings.Cut(s, ":")
	var c canvasSpec
	if _, err := fmt.Sscanf(size, "%dx%d", &c.w, &c.h); err != nil || c.w < 28 || c.h < 28 || c.w > 4096 || c.h > 4096 {
		return nil, fmt.Errorf("eval: --canvas %q: want WxH[:style] with sides 28..4096", s)
	}
	st, err := synth.ParseCanvasStyle(style)
	if err != nil {
		return nil, fmt.Errorf("eval: --canvas: %w", err)
	}
	c.style = st
	return &c, nil
}

// readStrokes recognises the strokes of an image's item: the JSON file beside it with the same name and a .json
// extension, a predict request body (strokes in canvas pixels, width, height).
func readStrokes(rec *recognize.Recognizer, image string) (*recognize.Result, error) {
	path := strings.TrimSuffix(image, filepath.Ext(image)) + ".json"
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	var req protocol.Predict
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	return rec.Strokes(req.InkStrokes(), req.Width, req.Height, recognize.Options{})
}
