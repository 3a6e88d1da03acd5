// Command canvasgap is issue 12's analysis of the canvas gap: MNIST digits read right as raw 28×28 inputs and
// wrong when drawn as canvases and read through the image pipeline (Recognizer.Image), on the validation split
// (the last 5,000 MNIST training digits; --test for the test set, to report only).
//
//	go run ./internal/canvasgap [-canvas 280x280:rgb,...] [-out DIR] [-why] [-pairs]
//	go run ./internal/canvasgap -nll 5000    # all the ink as one digit (ink.Whole): label NLL, accuracy
//	go run ./internal/canvasgap -two 2000    # two-digit codes of validation writers read without a format
//	go run ./internal/canvasgap -fit A,B     # fit recognize.wholeWins's weights to the PAIR lines in files A, B
//
// It prints every digit whose reading differs between raw and canvas (label, readings, boxes); -out writes a
// PNG per such digit (raw input, then the canvas reading's inputs; with -why the inputs of every candidate
// segmentation), -why prints the free segmentation's candidates and their readings, -pairs prints every canvas
// whose free segmentation plans two digits and offers all the ink as one (the whole and the split readings).
// -two measures what a rule that prefers one digit would cost codes read without a format; with -pairs it prints
// the same PAIR lines for them (label the code, tight or not), to weigh a whole-vs-split rule on both sets.
// -fit refits that rule (shared/recognize/wholesplit.go) from saved -pairs outputs of both, e.g.
//
//	canvasgap -pairs > val.txt; canvasgap -two 4000 -pairs > two.txt; canvasgap -fit val.txt,two.txt
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"digitpad/assets"
	"digitpad/internal/pngfile"
	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/shared/synth"
	"digitpad/train/mnist"
)

func main() {
	styles := flag.String("canvas", "280x280:rgb,76x64:grey,120x100:inverse", "canvases WxH:style, comma-separated")
	out := flag.String("out", "", "folder for a PNG per digit read differently (raw input, then the canvas inputs)")
	test := flag.Bool("test", false, "read MNIST test instead of the validation split (to report only)")
	variant := flag.String("variant", "fp32", "embedded model variant")
	why := flag.Bool("why", false, "print the free segmentation's candidates of each digit read differently")
	pairs := flag.Bool("pairs", false, "print PAIR lines: canvases (or -two codes) planned as two digits with all the ink offered as one")
	two := flag.Int("two", 0, "read this many two-digit codes of validation writers without a format, then stop")
	nllN := flag.Int("nll", 0, "read the first N digits as one digit each (ink.Whole), print label NLL and accuracy, then stop")
	fit := flag.String("fit", "", "comma-separated -pairs outputs: fit the whole-vs-split rule's weights to their PAIR lines, then stop")
	flag.Parse()
	if *fit != "" {
		if err := fitPairs(strings.Split(*fit, ",")); err != nil {
			slog.Error("canvasgap", "err", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*styles, *out, *test, *variant, *why, *pairs, *two, *nllN); err != nil {
		slog.Error("canvasgap", "err", err)
		os.Exit(1)
	}
}

func run(styles, out string, test bool, variant string, why, pairs bool, two, nllN int) error {
	data, card := assets.Variant(variant)
	rec, err := onnxrec.New(data, card, recognize.Config{})
	if err != nil {
		return err
	}
	if two > 0 {
		return twoDigits(rec, two, why, pairs)
	}
	dir, err := mnist.Locate(context.Background(), "")
	if err != nil {
		return err
	}
	tr, te, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	set := tr.Slice(tr.Len()-5000, tr.Len())
	if test {
		set = te
	}
	if nllN > 0 {
		return nll(rec, set, min(nllN, set.Len()), styles)
	}
	inputs := rawInputs(set, set.Len())
	raw, err := rec.Digits(inputs, recognize.Options{})
	if err != nil {
		return err
	}
	rawOK := 0
	for i, d := range raw.Digits {
		if d.Digit == int(set.Labels[i]) {
			rawOK++
		}
	}
	fmt.Printf("raw %d/%d\n", rawOK, set.Len())
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
	}
	for _, st := range strings.Split(styles, ",") {
		cv, err := parseStyle(st)
		if err != nil {
			return err
		}
		res := make([]*recognize.Result, set.Len())
		parallel(set.Len(), func(i int) {
			img, err := cv.draw(&inputs[i])
			if err != nil {
				return
			}
			res[i], _ = rec.Image(img, recognize.Options{}) // no ink: an unreadable digit
			if pairs && res[i] != nil {
				pairStats(rec, img, int(set.Labels[i]), fmt.Sprintf("%s\t%d", st, i), res[i].Code)
			}
		})
		ok, lost, gained := 0, 0, 0
		for i, r := range res {
			lab := string(rune('0' + set.Labels[i]))
			rok := raw.Digits[i].Digit == int(set.Labels[i])
			cok := r != nil && r.Code == lab
			ok += b2i(cok)
			lost += b2i(rok && !cok)
			gained += b2i(!rok && cok)
			if rok == cok {
				continue
			}
			code, conf := "<none>", 0.0
			var parts []string
			if r != nil {
				code, conf = r.Code, r.Confidence
				for _, d := range r.Digits {
					parts = append(parts, fmt.Sprintf("%d:%.2f%v", d.Digit, d.Confidence, d.Box))
				}
			}
			fmt.Printf("%s\t%d\tlabel %s raw %d(%.2f) canvas %s (%.2f) %s\n", st, i, lab, raw.Digits[i].Digit, raw.Digits[i].Confidence, code, conf, strings.Join(parts, " "))
			if out == "" || r == nil {
				continue
			}
			tag := strings.NewReplacer(":", "_", "x", "_").Replace(st)
			if why {
				img, err := cv.draw(&inputs[i])
				if err != nil {
					return err
				}
				if err := explain(rec, img, &inputs[i], filepath.Join(out, fmt.Sprintf("why_%05d_%s.png", i, tag))); err != nil {
					return err
				}
			}
			if err := save(filepath.Join(out, fmt.Sprintf("%05d_%s_%s_%s.png", i, tag, lab, code)), &inputs[i], r.Inputs); err != nil {
				return err
			}
		}
		fmt.Printf("%s: %d/%d (%.2f%%) lost %d gained %d\n", st, ok, set.Len(), 100*float64(ok)/float64(set.Len()), lost, gained)
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// canvas is a parsed WxH:style.
type canvas struct {
	w, h  int
	style synth.CanvasStyle
}

func parseStyle(s string) (canvas, error) {
	size, sty, _ := strings.Cut(s, ":")
	var c canvas
	if _, err := fmt.Sscanf(size, "%dx%d", &c.w, &c.h); err != nil {
		return c, fmt.Errorf("canvas %q: %w", s, err)
	}
	st, err := synth.ParseCanvasStyle(sty)
	c.style = st
	return c, err
}

func (c canvas) draw(d *[784]float32) (image.Image, error) {
	return synth.Upscale(d, c.w, c.h, c.style)
}

// parallel calls f(0..n-1) on all cores.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// save writes the raw digit and the canvas inputs side by side, 6× enlarged, ink dark.
func save(path string, raw *[784]float32, ins [][784]float32) error {
	all := append([][784]float32{*raw}, ins...)
	const z = 6
	img := image.NewGray(image.Rect(0, 0, len(all)*(28*z+4), 28*z))
	for k, in := range all {
		g := ink.InputImage(&in)
		for y := 0; y < 28*z; y++ {
			for x := 0; x < 28*z; x++ {
				img.Pix[y*img.Stride+k*(28*z+4)+x] = 255 - g.Pix[(y/z)*g.Stride+x/z]
			}
		}
	}
	return pngfile.Write(path, img)
}
