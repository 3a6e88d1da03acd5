package main

import (
	"fmt"
	"math/rand/v2"

	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// twoDigits reads n two-digit codes of 200 validation writers (every second written tightly) without a format
// and prints how many read exactly and how many as one digit: the cost, to codes read without a format, of
// preferring one digit for ink that might be one.
func twoDigits(rec *recognize.Recognizer, n int, verbose, pairs bool) error {
	ok, one, tightOK, tightN := 0, 0, 0, 0
	for i := range n {
		wr := synth.NewWriter(synth.WriterID(synth.ValWriters, 7<<20+uint64(i%200)), synth.AnyHand)
		rng := rand.New(rand.NewPCG(77, uint64(i)))
		text := fmt.Sprintf("%02d", rng.IntN(100))
		tight := i%2 == 1
		height := 40 + 100*rng.Float64()
		sh, err := wr.Write(text, rng.Uint64(), int(height*3.2), int(height*1.6), height, tight)
		if err != nil {
			return err
		}
		tightN += b2i(tight)
		r, err := rec.Image(sh.Image, recognize.Options{})
		if err != nil {
			continue
		}
		if pairs {
			pairStats(rec, sh.Image, 0, fmt.Sprintf("two\t%d\t%s\t%v", i, text, tight), r.Code)
		}
		if r.Code == text {
			ok++
			tightOK += b2i(tight)
		} else if verbose {
			fmt.Printf("TWO %d %s -> %s (%.2f)\n", i, text, r.Code, r.Confidence)
		}
		one += b2i(len(r.Code) == 1)
	}
	fmt.Printf("two-digit codes, no format: %d/%d exact (tight %d/%d), %d read as one digit\n", ok, n, tightOK, tightN, one)
	return nil
}
