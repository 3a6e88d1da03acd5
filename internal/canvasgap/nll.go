package main

import (
	"fmt"
	"math"
	"strings"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
	"digitpad/train/mnist"
)

// nll reads the first n digits of set as canvases of each style, all the ink normalised as one digit (ink.Whole,
// no segmentation choice), and prints the mean negative log-probability of the label, the accuracy, the mean L1
// distance of the normalised input to the raw one, the same NLL and accuracy of the raw inputs, and the
// digits read right raw and wrong this way: what normalisation alone loses.
func nll(rec *recognize.Recognizer, set *mnist.Set, n int, styles string) error {
	raw := rawInputs(set, n)
	rr, err := rec.Digits(raw, recognize.Options{})
	if err != nil {
		return err
	}
	rawSum, rawOK := 0.0, 0
	for i, d := range rr.Digits {
		lab := int(set.Labels[i])
		rawSum -= math.Log(math.Max(d.Probs[lab], 1e-9))
		if d.Digit == lab {
			rawOK++
		}
	}
	fmt.Printf("NLL raw: %.4f acc %d/%d\n", rawSum/float64(n), rawOK, n)
	for _, st := range strings.Split(styles, ",") {
		cv, err := parseStyle(st)
		if err != nil {
			return err
		}
		ins := make([][784]float32, n)
		parallel(n, func(i int) {
			img, err := cv.draw(&raw[i])
			if err != nil {
				return
			}
			m, err := ink.WorkMaskFromImage(img, ink.Options{})
			if err != nil {
				return
			}
			if d, err := ink.Whole(m.FullResolution(), ink.Options{}); err == nil {
				ins[i] = d.Input
			}
		})
		r, err := rec.Digits(ins, recognize.Options{})
		if err != nil {
			return err
		}
		sum, ok, dist := 0.0, 0, 0.0
		for i, d := range r.Digits {
			dist += l1(&ins[i], &raw[i])
			lab := int(set.Labels[i])
			sum -= math.Log(math.Max(d.Probs[lab], 1e-9))
			if d.Digit == lab {
				ok++
			} else if rr.Digits[i].Digit == lab {
				fmt.Printf("  lost %d label %d raw %.2f whole %d %.2f (label %.2f)\n", i, lab, rr.Digits[i].Confidence, d.Digit, d.Confidence, d.Probs[lab])
			}
		}
		fmt.Printf("NLL %s: %.4f acc %d/%d L1 to raw %.2f\n", st, sum/float64(n), ok, n, dist/float64(n))
	}
	return nil
}

// l1 is the sum of absolute differences of two inputs: how far a canvas's normalised digit is from the raw one.
func l1(a, b *[784]float32) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(float64(a[i] - b[i]))
	}
	return s
}

// rawInputs copies the first n images of set.
func rawInputs(set *mnist.Set, n int) [][784]float32 {
	out := make([][784]float32, n)
	for i := range out {
		copy(out[i][:], set.Image(i))
	}
	return out
}
