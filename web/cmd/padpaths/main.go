// Command padpaths prints pointer paths of handwritten codes from the synthetic stroke font (shared/synth) as
// JSON, so the browser tests replay with page.mouse the same handwriting that the Go tests recognise.
//
//	padpaths -w 1000 -h 310 -seed 1 [-gap 0.25] 7 12345
//
// prints {"w":1000,"h":310,"codes":{"7":{"paths":[[[x,y],...],...],"boxes":[[x0,y0,x1,y1],...]},...}}.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"digitpad/shared/synth"
)

type code struct {
	Paths [][][2]float64 `json:"paths"`
	Boxes [][4]int       `json:"boxes"`
}

type output struct {
	W     int             `json:"w"`
	H     int             `json:"h"`
	Codes map[string]code `json:"codes"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "padpaths:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("padpaths", flag.ContinueOnError)
	w := fl.Int("w", 1000, "canvas width the paths are laid out on")
	h := fl.Int("h", 310, "canvas height")
	seed := fl.Uint64("seed", 1, "handwriting seed")
	jitter := fl.Float64("jitter", 0.3, "handwriting variation, 0 (none) .. 1 (messy)")
	gap := fl.Float64("gap", synth.Defaults().Gap, "gap between digits in digit heights (0.02: written tightly)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *w <= 0 || *h <= 0 {
		return fmt.Errorf("canvas %dx%d must be positive", *w, *h)
	}
	out := output{W: *w, H: *h, Codes: map[string]code{}}
	for _, text := range fl.Args() {
		p := synth.Defaults()
		p.Seed, p.Jitter, p.Height, p.Gap = *seed, *jitter, 0.6*float64(*h), *gap
		p = synth.Centered(p, len(text), *w, *h)
		c, err := synth.Write(text, p)
		if err != nil {
			return err
		}
		boxes := make([][4]int, len(c.Boxes))
		for i, b := range c.Boxes {
			boxes[i] = [4]int{b.Min.X, b.Min.Y, b.Max.X, b.Max.Y}
		}
		out.Codes[text] = code{Paths: c.Paths(), Boxes: boxes}
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
