package main

import (
	"fmt"
	"image"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
)

// maxCands is the recogniser's number of free candidate segmentations (recognize.maxCandidates).
const maxCands = 3

// explain prints the free segmentation's candidates of a canvas and the model's reading of each of their digits,
// and writes the raw input and every candidate's inputs to path.
func explain(rec *recognize.Recognizer, img image.Image, raw *[784]float32, path string) error {
	m, err := ink.WorkMaskFromImage(img, ink.Options{})
	if err != nil {
		return err
	}
	m, cs, err := ink.SegmentFree(m, ink.Options{}, maxCands)
	if err != nil {
		return err
	}
	fmt.Printf("  mask %dx%d\n", m.W, m.H)
	var all [][784]float32
	for c, boxes := range cs.Boxes {
		var ins [][784]float32
		for i := range boxes {
			ins = append(ins, cs.Digit(c, i).Input)
		}
		all = append(all, ins...)
		r, err := rec.Digits(ins, recognize.Options{})
		if err != nil {
			return err
		}
		fmt.Printf("  cand %d:", c)
		for i, d := range r.Digits {
			fmt.Printf(" %d:%.3f%v", d.Digit, d.Confidence, boxes[i])
		}
		fmt.Println()
	}
	return save(path, raw, all)
}

// pairStats prints, for a canvas whose free segmentation plans two digits and offers all the ink as one, the
// whole reading, the split reading, the ink's aspect (width/height) and the overlap of the two pieces' boxes.
func pairStats(rec *recognize.Recognizer, img image.Image, label int, tag string) {
	m, err := ink.WorkMaskFromImage(img, ink.Options{})
	if err != nil {
		return
	}
	_, cs, err := ink.SegmentFree(m, ink.Options{}, maxCands)
	if err != nil || len(cs.Boxes[0]) != 2 {
		return
	}
	wc := -1
	for c := 1; c < len(cs.Boxes); c++ {
		if len(cs.Boxes[c]) == 1 {
			wc = c
		}
	}
	if wc < 0 {
		return
	}
	in := [][784]float32{cs.Digit(0, 0).Input, cs.Digit(0, 1).Input, cs.Digit(wc, 0).Input}
	r, err := rec.Digits(in, recognize.Options{})
	if err != nil {
		return
	}
	box := cs.Boxes[wc][0]
	fmt.Printf("PAIR\t%s\t%d\twhole %d %.3f\tsplit %d%d %.3f %.3f\taspect %.2f\toverlap %d\n", tag, label,
		r.Digits[2].Digit, r.Digits[2].Confidence, r.Digits[0].Digit, r.Digits[1].Digit, r.Digits[0].Confidence,
		r.Digits[1].Confidence, float64(box.Dx())/float64(box.Dy()), cs.Boxes[0][0].Max.X-cs.Boxes[0][1].Min.X)
}
