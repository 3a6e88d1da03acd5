// Command mkevalset writes the project's own held-out evaluation sets, in the hands of synthetic evaluation
// writers (shared/synth.EvalWriters: never used for training, validation or tuning): PNG canvases plus
// labels.csv (file,code) for `digitpad eval --data DIR`. Kinds:
//
//	clean     single digits, steady hands, many pens (round, nib with hairlines, brush), either polarity
//	unsteady  single digits, unsteady hands: strong slant, tremor, extreme pens
//	codes     5-digit codes, a quarter written tightly (touching or overlapping neighbours)
//
// Deterministic given --seed.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"digitpad/shared/synth"
)

func main() {
	out := flag.String("out", "evalset", "output folder")
	kind := flag.String("kind", "codes", "clean, unsteady or codes")
	n := flag.Int("n", 500, "number of canvases")
	writers := flag.Int("writers", 50, "number of evaluation writers")
	seed := flag.Uint64("seed", 1, "random seed")
	val := flag.Bool("val", false, "write validation writers' canvases instead (for tuning; evaluation writers stay unseen)")
	flag.Parse()
	ws := synth.EvalWriters
	if *val {
		ws = synth.ValWriters
	}
	if err := run(*out, *kind, *n, *writers, *seed, ws); err != nil {
		slog.Error("mkevalset", "err", err)
		os.Exit(1)
	}
}

func run(out, kindName string, n, writers int, seed uint64, ws synth.WriterSet) error {
	kind, err := synth.ParseSetKind(kindName)
	if err != nil {
		return err
	}
	if n < 1 || writers < 1 {
		return fmt.Errorf("need n >= 1 and writers >= 1")
	}
	d, err := synth.CreateLabelledDir(out)
	if err != nil {
		return err
	}
	for i := range n {
		img, text, err := synth.SetCanvas(ws, kind, seed, i, writers)
		if err != nil {
			d.Close()
			return err
		}
		if err := d.Add(i, text, img); err != nil {
			d.Close()
			return err
		}
	}
	return d.Close()
}
