// Command policyfold measures how optimistic a confirm-policy fit is without the held-out seeds: it caches
// readings of validation codes (read: the shipped fp32 model at its card's temperature, as one of the card's
// readers reads them) and fits each policy rule on part of the fitted codes, measuring silent errors and asking
// on the rest (fold: k-fold by seed, repeated over random seed orders); policy fits calibrate.FitPolicy (the
// shipped rule) on the dumps, as `digitpad calibrate` would on those codes. Validation writers only.
//
//	go run ./train/calibrate/internal/policyfold read -reader second -strokes -seed 13 -n 10000 -out /tmp/sf/second-s13.gob
//	go run ./train/calibrate/internal/policyfold fold /tmp/sf/second-s13.gob
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"digitpad/shared/recognize"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: policyfold read|fold ...")
		os.Exit(2)
	}
	ctx := context.Background()
	switch os.Args[1] {
	case "read":
		fs := flag.NewFlagSet("read", flag.ExitOnError)
		reader := fs.String("reader", "second", "second, nosecond or alone")
		strokes := fs.Bool("strokes", false, "read the codes from their pen paths")
		seed := fs.Uint64("seed", 13, "first seed")
		n := fs.Int("n", 10000, "codes")
		per := fs.Int("per", 500, "codes per seed")
		out := fs.String("out", "", "dump file")
		_ = fs.Parse(os.Args[2:])
		must(readDump(ctx, *reader, *strokes, *seed, *n, *per, *out))
	case "fold":
		fs := flag.NewFlagSet("fold", flag.ExitOnError)
		k := fs.Int("k", 5, "folds (by seed)")
		reps := fs.Int("reps", 20, "repetitions over random seed orders")
		target := fs.Float64("target", 0.005, "silent-error target")
		held := fs.String("held", "", "other dumps (comma-separated): report the rules fitted on all the codes on them")
		image := fs.String("image", "", "the image confirm model (short,short_one,pair) to try with a fitted threshold")
		_ = fs.Parse(os.Args[2:])
		m, err := parseModel(*image)
		must(err)
		must(fold(fs.Args(), *k, *reps, *target, *held, m))
	case "policy":
		fs := flag.NewFlagSet("policy", flag.ExitOnError)
		target := fs.Float64("target", 0.005, "silent-error target")
		held := fs.String("held", "", "held-out dumps (comma-separated) to report the policy on")
		_ = fs.Parse(os.Args[2:])
		must(policy(fs.Args(), *target, *held))
	case "stats":
		fs := flag.NewFlagSet("stats", flag.ExitOnError)
		model := fs.String("model", "", "confirm model short,short_one,pair,edge")
		t := fs.Float64("t", 0.5, "confirm threshold")
		_ = fs.Parse(os.Args[2:])
		m, err := parseModel(*model)
		must(err)
		if m == nil {
			m = &recognize.ConfirmModel{}
		}
		must(stats(fs.Args(), *m, *t))
	default:
		fmt.Fprintln(os.Stderr, "usage: policyfold read|fold|stats ...")
		os.Exit(2)
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
