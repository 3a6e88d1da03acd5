package main

import (
	"fmt"
	"math"

	"digitpad/shared/recognize"
	"digitpad/train"
)

// stats reports each dump's wrong and format-error rates and, at model m and threshold t, its silent errors
// per seed with their dispersion (variance over the binomial variance: 1 when seeds differ only by chance).
func stats(paths []string, m recognize.ConfirmModel, t float64) error {
	for _, p := range paths {
		d, err := loadDump(p)
		if err != nil {
			return err
		}
		wrong, fe := 0, 0
		per, wper := map[int]int{}, map[int]int{}
		rs := train.Rescore(d.Readings, m)
		silent := 0
		for i, r := range rs {
			if r.FormatError {
				fe++
			} else if !r.Correct {
				wrong++
				wper[i/d.Per]++
			}
			per[i/d.Per] += 0
			if !r.FormatError && !r.Correct && r.Confidence >= t {
				per[i/d.Per]++
				silent++
			}
		}
		n := len(rs)
		mean := float64(silent) / float64(len(per))
		v := 0.0
		line, wline := "", ""
		for s := range len(per) {
			v += (float64(per[s]) - mean) * (float64(per[s]) - mean)
			line += fmt.Sprintf(" %d", per[s])
			wline += fmt.Sprintf(" %d", wper[s])
		}
		v /= math.Max(1, float64(len(per)-1))
		q := float64(silent) / float64(n)
		bin := float64(d.Per) * q * (1 - q)
		fmt.Printf("%s: %d codes, format errors %.2f%%, wrong (format kept) %.2f%%, silent at %.4f %.2f%% (%d); per seed%s; dispersion %.2f; wrong per seed%s\n",
			p, n, 100*float64(fe)/float64(n), 100*float64(wrong)/float64(n), t, 100*q, silent, line, v/math.Max(bin, 1e-12), wline)
	}
	return nil
}
