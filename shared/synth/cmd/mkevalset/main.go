// Command mkevalset writes the project's own held-out evaluation sets, in the hands of synthetic evaluation
// writers (shared/synth.EvalWriters: never used for training, validation or tuning): PNG canvases plus
// labels.csv (file,code) for `digitpad eval --data DIR`. Kinds:
//
//	clean     single digits, steady hands, many pens (round, nib with hairlines, brush), either polarity
//	unsteady  single digits, unsteady hands: strong slant, tremor, extreme pens
//	codes     5-digit codes, a quarter written tightly (touching or overlapping neighbours)
//
// With -strokes ORDER, each canvas's pen paths go beside its PNG as NNNN_CODE.json, a predict request body
// ({"strokes": [[[x,y],...],...], "width": W, "height": H}, canvas pixels) plus "digit" (the digit each stroke
// belongs to), for `digitpad eval --data DIR --strokes`. ORDER is the stroke order: time (as written), shuffle
// (shuffled within the code), last (one stroke, chosen at random, moved to the end: a late correction) or digit
// (the strokes of one digit, chosen at random, moved to the end: a digit added after the rest of the code).
//
// Deterministic given --seed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"

	"digitpad/shared/protocol"
	"digitpad/shared/synth"
)

func main() {
	out := flag.String("out", "evalset", "output folder")
	kind := flag.String("kind", "codes", "clean, unsteady or codes")
	n := flag.Int("n", 500, "number of canvases")
	writers := flag.Int("writers", 50, "number of evaluation writers")
	seed := flag.Uint64("seed", 1, "random seed")
	val := flag.Bool("val", false, "write validation writers' canvases instead (for tuning; evaluation writers stay unseen)")
	strokes := flag.String("strokes", "", "also write each canvas's strokes as NNNN_CODE.json, in this order: time, shuffle, last or digit")
	flag.Parse()
	ws := synth.EvalWriters
	if *val {
		ws = synth.ValWriters
	}
	if err := run(*out, *kind, *n, *writers, *seed, ws, *strokes); err != nil {
		slog.Error("mkevalset", "err", err)
		os.Exit(1)
	}
}

func run(out, kindName string, n, writers int, seed uint64, ws synth.WriterSet, order string) error {
	kind, err := synth.ParseSetKind(kindName)
	if err != nil {
		return err
	}
	switch order {
	case "", "time", "shuffle", "last", "digit":
	default:
		return fmt.Errorf("-strokes %q: want time, shuffle, last or digit", order)
	}
	if n < 1 || writers < 1 {
		return fmt.Errorf("need n >= 1 and writers >= 1")
	}
	d, err := synth.CreateLabelledDir(out)
	if err != nil {
		return err
	}
	for i := range n {
		img, sh, err := synth.SetSheet(ws, kind, seed, i, writers)
		if err != nil {
			d.Close()
			return err
		}
		if err := d.Add(i, sh.Code.Text, img); err != nil {
			d.Close()
			return err
		}
		if order == "" {
			continue
		}
		b := img.Bounds()
		rec := strokeRecord{Predict: protocol.Predict{Strokes: sh.Code.Paths(), Width: b.Dx(), Height: b.Dy()}, Digit: sh.Code.Digit}
		reorder(&rec, order, rand.New(rand.NewPCG(seed, uint64(i))))
		if err := writeJSON(filepath.Join(out, fmt.Sprintf("%04d_%s.json", i, sh.Code.Text)), rec); err != nil {
			d.Close()
			return err
		}
	}
	return d.Close()
}

// strokeRecord is one canvas's strokes: a predict request body plus the digit of each stroke.
type strokeRecord struct {
	protocol.Predict
	Digit []int `json:"digit"`
}

// reorder changes the stroke order: shuffle permutes all strokes, last moves one stroke to the end, digit moves
// one digit's strokes to the end.
func reorder(rec *strokeRecord, order string, rng *rand.Rand) {
	n := len(rec.Strokes)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	switch order {
	case "shuffle":
		rng.Shuffle(n, func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
	case "last":
		k := rng.IntN(n)
		perm = append(append(perm[:k:k], perm[k+1:]...), k)
	case "digit":
		d := rec.Digit[rng.IntN(n)]
		var rest, moved []int
		for _, k := range perm {
			if rec.Digit[k] == d {
				moved = append(moved, k)
			} else {
				rest = append(rest, k)
			}
		}
		perm = append(rest, moved...)
	default:
		return
	}
	strokes, digit := make([][][2]float64, n), make([]int, n)
	for i, k := range perm {
		strokes[i], digit[i] = rec.Strokes[k], rec.Digit[k]
	}
	rec.Strokes, rec.Digit = strokes, digit
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("strokes: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("strokes: %w", err)
	}
	return nil
}
