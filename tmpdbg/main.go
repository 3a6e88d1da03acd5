package main

import (
	"context"
	"fmt"
	"os"

	"digitpad/assets"
	"digitpad/shared/ink"
	"digitpad/shared/model/onnxload"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
	"digitpad/train/mnist"
)

func main() {
	dir, _ := mnist.Locate(context.Background(), "")
	set, _ := mnist.LoadTest(dir)
	data, cj := assets.Variant("fp32")
	card, _ := assets.ParseCard(cj, data)
	m, _ := onnxload.Load(data)
	rec, _ := recognize.New(m, recognize.ModelInfo{Name: card.Name}, recognize.Config{})
	n := 1000
	if len(os.Args) > 1 {
		fmt.Sscan(os.Args[1], &n)
	}
	bad := 0
	for i := 0; i < n; i++ {
		var in [784]float32
		copy(in[:], set.Image(i))
		img, _ := synth.Upscale(&in, 280, 280, synth.DarkOnWhiteRGB)
		r, err := rec.Image(img, recognize.Options{})
		raw, _ := rec.Digits([][784]float32{in}, recognize.Options{})
		want := fmt.Sprint(set.Labels[i])
		if err != nil || r.Code != want {
			bad++
			code := "ERR"
			if r != nil {
				code = r.Code
			}
			mk, _ := ink.MaskFromImage(img)
			cands, _ := ink.SegmentCandidates(mk, ink.Options{}, 3)
			var boxes [][]string
			for _, c := range cands {
				var bs []string
				for _, d := range c {
					bs = append(bs, fmt.Sprint(d.Box))
				}
				boxes = append(boxes, bs)
			}
			wh, _ := ink.Whole(mk, ink.Options{})
			whr, _ := rec.Digits([][784]float32{wh.Input}, recognize.Options{})
			fmt.Println(i, want, code, raw.Code, "whole:", whr.Code, fmt.Sprintf("%.3f", whr.Digits[0].Confidence), boxes)
		}
	}
	fmt.Println("bad", bad)
}
