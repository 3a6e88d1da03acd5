// Command mkpadset writes a labelled set of synthetic pad canvases — random 5-digit codes in the stroke font with
// random pens, polarity, slant, jitter, hurried writing and spacing down to touching digits — as PNGs plus
// labels.csv (file,code), for `digitpad eval --data DIR`. It is the team's stand-in for held-out handwriting:
// deterministic given --seed, never used for training.
package main

import (
	"flag"
	"fmt"
	"image/color"
	"log/slog"
	"math/rand/v2"
	"os"

	"digitpad/shared/synth"
)

func main() {
	out := flag.String("out", "padset", "output folder")
	n := flag.Int("n", 200, "number of codes")
	seed := flag.Uint64("seed", 7, "random seed")
	touching := flag.Float64("touching", 0.25, "fraction of codes whose digits touch or overlap")
	flag.Parse()
	if err := run(*out, *n, *seed, *touching); err != nil {
		slog.Error("mkpadset", "err", err)
		os.Exit(1)
	}
}

func run(out string, n int, seed uint64, touching float64) error {
	d, err := synth.CreateLabelledDir(out)
	if err != nil {
		return err
	}
	defer d.Close() // on early errors; the normal path returns d.Close()'s result
	rng := rand.New(rand.NewPCG(seed, 1))
	inks := []color.Color{color.Black, color.RGBA{20, 30, 120, 255}, color.RGBA{60, 60, 60, 255}}
	for i := range n {
		code := fmt.Sprintf("%05d", rng.IntN(100000))
		p := synth.Defaults()
		p.Seed = rng.Uint64()
		p.Height = 60 + rng.Float64()*100
		p.Jitter = 0.3 + rng.Float64()*0.7
		p.Slant = (rng.Float64() - 0.3) * 0.3
		p.Hurried = rng.Float64() < 0.3
		p.Gap = 0.1 + rng.Float64()*0.3
		if rng.Float64() < touching {
			p.Gap = -0.08 + rng.Float64()*0.08
		}
		cw, ch := 640, 240
		fp, err := synth.Fit(code, p, cw, ch)
		if err != nil {
			return err
		}
		c, err := synth.Write(code, fp)
		if err != nil {
			return err
		}
		pen := synth.Pen{Width: 2 + rng.Float64()*14, Ink: inks[rng.IntN(len(inks))], Background: color.White}
		switch rng.IntN(4) {
		case 0:
			pen.Ink, pen.Background = color.White, color.RGBA{30, 30, 30, 255}
		case 1:
			pen.Background = nil // ink on a transparent canvas
		}
		img, err := synth.Render(c.Strokes, cw, ch, pen)
		if err != nil {
			return err
		}
		if err := d.Add(i, code, img); err != nil {
			return err
		}
	}
	return d.Close()
}
