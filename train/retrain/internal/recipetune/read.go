package main

// readStyle is recipetune -read: how the shipped model reads the style's validation codes, per class, and a
// picture of the first of them as the pad's ink, to judge a style's difficulty and legibility before any run of
// the proof test.

import (
	"fmt"
	"image"
	"math/rand/v2"
	"time"

	"digitpad/assets"
	"digitpad/internal/pngfile"
	"digitpad/shared/recognize"
	"digitpad/shared/recognize/onnxrec"
	"digitpad/train/retrain"
)

// styleValSeed seeds the style's validation codes (never the proof test's seeds).
const styleValSeed = 555

func readStyle(style retrain.Style, n int, pngPath string) error {
	onnx, card := assets.Variant("fp32")
	rec, err := onnxrec.New(onnx, card, recognize.Config{})
	if err != nil {
		return err
	}
	fs, _, err := retrain.StyleFeedback(rec, rand.New(rand.NewPCG(styleValSeed, 14)), style, n, func(int) string { return "val" }, time.Now())
	if err != nil {
		return err
	}
	var conf [10][10]int
	right, digits := 0, 0
	for _, f := range fs {
		for k, l := range f.Labels {
			conf[l][f.Digits[k].Digit]++
			digits++
			if f.Digits[k].Digit == l {
				right++
			}
		}
	}
	fmt.Printf("%d of %d validation codes segment into five digits; digits right %.2f%% (%d of %d)\n",
		len(fs), n, 100*float64(right)/float64(max(1, digits)), right, digits)
	for d, row := range conf {
		tot, misread := 0, ""
		for p, c := range row {
			tot += c
			if p != d && c > 0 {
				misread += fmt.Sprintf("  %d as %d", c, p)
			}
		}
		fmt.Printf("  %d: %4d of %4d right%s\n", d, row[d], tot, misread)
	}
	if pngPath == "" || n == 0 {
		return nil
	}
	codes, err := retrain.StyleCodes(rand.New(rand.NewPCG(styleValSeed, 14)), style, min(n, 12))
	if err != nil {
		return err
	}
	const gap = 4
	var img *image.Gray
	for i, sc := range codes {
		m, _, err := recognize.StrokesMask(sc.Canvas.Strokes, retrain.CanvasW, retrain.CanvasH)
		if err != nil {
			return err
		}
		if img == nil {
			img = image.NewGray(image.Rect(0, 0, m.W, len(codes)*(m.H+gap)))
			for k := range img.Pix {
				img.Pix[k] = 255
			}
		}
		y0 := i * (m.H + gap)
		for y := 0; y < m.H && y0+y < img.Rect.Dy(); y++ {
			for x := 0; x < m.W && x < img.Rect.Dx(); x++ {
				img.Pix[(y0+y)*img.Stride+x] = 255 - m.Pix[y*m.W+x]
			}
		}
	}
	return pngfile.Write(pngPath, img)
}
