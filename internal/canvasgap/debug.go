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
// whole reading, the split reading, the ink's aspect (width/height), the overlap of the two pieces' boxes, the
// strokes the planned cut crosses (ink.Candidates.CutStrokes, NaN when the pieces are apart), the pieces' heights
// over the whole's, and the code the recogniser read (got).
func pairStats(rec *recognize.Recognizer, img image.Image, label int, tag, got string) {
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
	box, a, b := cs.Boxes[wc][0], cs.Boxes[0][0], cs.Boxes[0][1]
	h := float64(box.Dy())
	fmt.Printf("PAIR\t%s\t%d\twhole %d %.3f\tsplit %d%d %.3f %.3f\taspect %.2f\toverlap %d\tcut %.2f\theights %.2f %.2f\twidths %.2f %.2f\tgot %s\n", tag, label,
		r.Digits[2].Digit, r.Digits[2].Confidence, r.Digits[0].Digit, r.Digits[1].Digit, r.Digits[0].Confidence,
		r.Digits[1].Confidence, float64(box.Dx())/h, a.Max.X-b.Min.X, cs.CutStrokes(),
		float64(a.Dy())/h, float64(b.Dy())/h, float64(a.Dx())/h, float64(b.Dx())/h, got)
}
