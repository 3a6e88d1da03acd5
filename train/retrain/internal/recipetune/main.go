// Command recipetune compares retrain recipes the honest way: it feeds the proof test's corrections
// (300 codes of its hard style (-style), predicted by the shipped model, confirmed with their true labels) into a fresh
// SQLite store and registry, runs retrain.Run once per variant and prints the feedback holdout, MNIST test and
// synthetic numbers and the gate — never the style's unseen samples, which only the proof test measures.
//
//	go run ./train/retrain/internal/recipetune -v base,cw=8+fw=3,lr=3e-4+cw=8+fw=3,cw=8+fw=3+aug
//
// A variant is "base" or "+"-joined settings: steps=N lr=X cw=N (corrected digits×N) fw=N (confirmed
// digits×N) aug (augment clerks' digits) mnist=N (MNIST digits per class).
//
// With -fit it only fine-tunes (retrain.Fit on the same kind of mix as Run) and scores the holdout, a validation
// set of the style (seed 555, never the proof's unseen seed) and MNIST validation (train 55,000–59,999):
//
//	go run ./train/retrain/internal/recipetune -fit -v steps=0,base,shift
//
// where steps=0 is the base model, shift leaves out misaligned records (retrain.Misaligned, as Screen does),
// extra=N adds N more digits of the style (how far lots of the style gets) and freeze=N freezes the first N layers.
//
// With -read it only reads the style's validation codes with the shipped model (digits right per class, what
// they are misread as; -png FILE draws the first 12 as the pad's ink), to set a style's difficulty and check it
// is legible before running the proof test:
//
//	go run ./train/retrain/internal/recipetune -read -style stencil -png /tmp/stencil.png

package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"digitpad/assets"
	"digitpad/registry"
	regfs "digitpad/registry/fs"
	"digitpad/server/store/sqlite"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train/retrain"
)

func main() {
	variants := flag.String("v", "base", "comma list")
	styleName := flag.String("style", "stencil", "the clerks' style: stencil (retrain.StencilHand, the proof test's) or slanted (retrain.SlantedHurried)")
	read := flag.Bool("read", false, "only read the style's 250 validation codes (seed 555) with the shipped model: digits right per class, and with -png a picture of the first 12")
	pngPath := flag.String("png", "", "with -read: write the first validation codes' ink to this PNG")
	fit := flag.Bool("fit", false, "fine-tune only (retrain.Fit on the Run's mix), scored on the holdout, a validation set of the style and MNIST validation: faster, and adds extra=N, freeze=N, shift")
	flag.Parse()
	style, ok := map[string]retrain.Style{"stencil": retrain.StencilHand, "slanted": retrain.SlantedHurried}[*styleName]
	if !ok {
		fmt.Fprintf(os.Stderr, "recipetune: unknown style %q\n", *styleName)
		os.Exit(2)
	}
	ctx := context.Background()
	if *read {
		if err := readStyle(style, 250, *pngPath); err != nil {
			fmt.Fprintln(os.Stderr, "recipetune:", err)
			os.Exit(1)
		}
		return
	}
	if *fit {
		fitOnly(ctx, style, *variants)
		return
	}
	dir, err := os.MkdirTemp("", "recipetune")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "db"))
	if err != nil {
		panic(err)
	}
	reg, err := regfs.Open(ctx, filepath.Join(dir, "reg"), registry.Options{})
	if err != nil {
		panic(err)
	}
	if _, err := reg.Bootstrap(ctx); err != nil {
		panic(err)
	}
	onnx, card := assets.Variant("fp32")
	rec, err := onnxrec.New(onnx, card, recognize.Config{})
	if err != nil {
		panic(err)
	}
	fs, corr, err := retrain.StyleFeedback(rec, rand.New(rand.NewPCG(2026, 14)), style, 300,
		func(i int) string { return fmt.Sprintf("pad-%d", i%3) }, time.Now())
	if err != nil {
		panic(err)
	}
	if err := retrain.SaveFeedback(ctx, st, fs); err != nil {
		panic(err)
	}
	n := len(fs)
	fmt.Printf("%d records, %d corrected\n", n, corr)
	for _, v := range strings.Split(*variants, ",") {
		set := settings(v)
		c := retrain.Config{Store: st, Registry: reg, Steps: int(set["steps"]), LR: set["lr"],
			CorrectionWeight: int(set["cw"]), ConfirmedWeight: int(set["fw"]), AugmentFeedback: set["aug"] != 0,
			MNISTPerClass: int(set["mnist"])}
		t0 := time.Now()
		res, err := retrain.Run(ctx, c)
		if err != nil {
			panic(err)
		}
		m := res.Metrics
		fmt.Printf("RESULT %-30s holdout %.2f -> %.2f  mnist %.2f -> %.2f  synth %.2f -> %.2f passed=%v %v (%s)\n", v,
			100*m["base_holdout_accuracy"], 100*m["candidate_holdout_accuracy"], 100*m["base_mnist_test_accuracy"],
			100*m["candidate_mnist_test_accuracy"], 100*m["base_synthetic_accuracy"], 100*m["candidate_synthetic_accuracy"],
			res.Passed, res.Reasons, time.Since(t0).Round(time.Second))
	}
}

// settings parses a variant: "+"-joined key=value pairs (a bare key is 1); absent keys are 0 (Run's default).
func settings(v string) map[string]float64 {
	out := map[string]float64{}
	for _, kv := range strings.Split(v, "+") {
		k, val, ok := strings.Cut(kv, "=")
		x := 1.0
		if ok {
			fmt.Sscan(val, &x)
		}
		out[k] = x
	}
	return out
}
