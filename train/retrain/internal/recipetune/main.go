// Command recipetune compares retrain recipes the honest way: it feeds the proof test's corrections
// (300 codes of its hard style, predicted by the shipped model, confirmed with their true labels) into a fresh
// SQLite store and registry, runs retrain.Run once per variant and prints the feedback holdout, MNIST test and
// synthetic numbers and the gate — never the style's unseen samples, which only the proof test measures.
//
//	go run ./train/retrain/internal/recipetune -v base,cw=8+fw=3,lr=3e-4+cw=8+fw=3,cw=8+fw=3+aug
//
// A variant is "base" or "+"-joined settings: steps=N lr=X cw=N (corrected digits×N) fw=N (confirmed
// digits×N) aug (augment clerks' digits) mnist=N (MNIST digits per class).
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
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
	"digitpad/train/retrain"
)

var hardStyle = retrain.SlantedHurried

func main() {
	variants := flag.String("v", "base", "comma list")
	flag.Parse()
	ctx := context.Background()
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
	rng := rand.New(rand.NewPCG(2026, 14))
	n, corr := 0, 0
	for i := 0; i < 300; i++ {
		code := make([]byte, 5)
		for k := range code {
			code[k] = byte('0' + rng.IntN(10))
		}
		p := synth.Centered(hardStyle.Writer(rng, string(code)), 5, 900, 200)
		c, err := synth.Write(string(code), p)
		if err != nil {
			panic(err)
		}
		res, err := rec.Strokes(c.Strokes, 900, 200, recognize.Options{Format: "5"})
		if err != nil || len(res.Inputs) != 5 {
			continue
		}
		labels := make([]int, 5)
		for k, ch := range string(code) {
			labels[k] = int(ch - '0')
		}
		if res.Code != string(code) {
			corr++
		}
		f, err := protocol.NewFeedback(protocol.Confirmation{IdempotencyKey: fmt.Sprint("k", i), ClientID: fmt.Sprintf("pad-%d", i%3),
			Labels: labels, Prediction: protocol.Prediction{Result: *res}, CreatedAt: time.Now()})
		if err != nil {
			panic(err)
		}
		if _, _, err := st.SaveFeedback(ctx, f); err != nil {
			panic(err)
		}
		n++
	}
	fmt.Printf("%d records, %d corrected\n", n, corr)
	for _, v := range strings.Split(*variants, ",") {
		c := retrain.Config{Store: st, Registry: reg}
		for _, kv := range strings.Split(v, "+") {
			var x float64
			k, val, _ := strings.Cut(kv, "=")
			fmt.Sscan(val, &x)
			switch k {
			case "steps":
				c.Steps = int(x)
			case "lr":
				c.LR = x
			case "cw":
				c.CorrectionWeight = int(x)
			case "fw":
				c.ConfirmedWeight = int(x)
			case "aug":
				c.AugmentFeedback = true
			case "mnist":
				c.MNISTPerClass = int(x)
			}
		}
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
