// Command stability measures how the confirm thresholds `digitpad calibrate` chooses move with the number of
// validation codes they are chosen on: it reads the shipped fp32 model's 10,000 image codes (seeds 33-52), 3,000
// held-out ones (seeds 11-16), 10,000 stroke codes (seeds 13-32; calibrate itself fits the stroke policy on 20,000,
// seeds 13-52) and 2,000 held-out ones (seeds 11-12) once, as calibrate reads them (its card's temperature, the shipped pair and second readers), then fits the policy on
// disjoint blocks of 10,000, 5,000, 3,000 and 2,000 codes and reports each on the held-out codes (all, and the
// first 1,000 that `digitpad retrain` reports on). Validation writers only. ~290 CPU s.
//
//	go run ./train/calibrate/internal/stability
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"digitpad/assets"
	"digitpad/internal/cputime"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train"
	"digitpad/train/calibrate"
)

func main() {
	ctx := context.Background()
	lm, err := onnxrec.Load(assets.Model(), assets.ModelCard())
	must(err)
	pair, err := onnxrec.PairReader()
	must(err)
	second, err := onnxrec.SecondReader()
	must(err)
	cfg := recognize.Config{InputScale: lm.Card.InputScale, Temperature: lm.Card.Calibration.Temperature, Format: "5", Pair: pair, Second: second}
	rec, err := recognize.New(lm.Model, recognize.ModelInfo{Name: lm.Card.Name}, cfg)
	must(err)
	read := func(src calibrate.Source, seed uint64, n, per int) []train.Reading {
		c0, w0 := cputime.Process(), time.Now()
		rs, err := calibrate.ReadCodes(ctx, rec, src, seed, n, per)
		must(err)
		fmt.Printf("read %d codes (strokes=%v) from seed %d: %.1f CPU s, %.0f s wall\n", n, src, seed, (cputime.Process() - c0).Seconds(), time.Since(w0).Seconds())
		return rs
	}
	report := func(name string, fit, held, held1 []train.Reading, edge bool) {
		f := calibrate.FitPolicy(fit, 0.005, name, edge, os.Stderr)
		h := f.HeldOut(held, "")
		h1 := f.HeldOut(held1, "")
		fmt.Printf("%-34s threshold %.4f fitted %.2f%%/%.2f%%  held(all %d) %.2f%%/%.2f%%  held(first %d) %.2f%%/%.2f%%\n", name,
			f.Chosen.Threshold, 100*f.Chosen.ConfirmRate, 100*f.Chosen.SilentErrorRate, len(held), 100*h.ConfirmRate, 100*h.SilentErrorRate,
			len(held1), 100*h1.ConfirmRate, 100*h1.SilentErrorRate)
	}
	img := read(calibrate.Images, 33, 10000, 500)
	ih := read(calibrate.Images, 11, 3000, 500)
	for _, b := range [][2]int{{0, 10000}, {0, 5000}, {5000, 10000}, {0, 3000}, {3000, 6000}, {6000, 9000}, {0, 2000}, {2000, 4000}} {
		report(fmt.Sprintf("images codes %d-%d (seeds %d-%d)", b[0], b[1], 33+b[0]/500, 33+(b[1]-1)/500), img[b[0]:b[1]], ih, ih[:1000], false)
	}
	st := read(calibrate.Strokes, 13, 10000, 500)
	sh := read(calibrate.Strokes, 11, 2000, 1000)
	for _, b := range [][2]int{{0, 10000}, {0, 5000}, {5000, 10000}, {0, 3000}, {3000, 6000}, {6000, 9000}} {
		report(fmt.Sprintf("strokes codes %d-%d (seeds %d-%d)", b[0], b[1], 13+b[0]/500, 13+(b[1]-1)/500), st[b[0]:b[1]], sh, sh[:1000], true)
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
