package recognize

import (
	"math"
	"slices"
)

// Weights of the logistic whole-vs-split model (wholeWins): the log-odds that all the ink is one digit is
// wsBias + wsWhole·ln(whole confidence) + wsSplitGeo·mean ln(halves' confidences) + wsSplitMin·ln(lower half's
// confidence) + wsCut·cut strokes (0 when the pieces are apart) + wsMinHeight·shorter piece's height over the
// whole's. The model reads the halves of a wide digit confidently (a 0 as "61", an 8 as "63") and squeezes two
// touching digits into one it reads confidently too ("44" as a 4), so the confidences alone cannot tell them
// apart; a cut through two strokes (the top and bottom of a 0) and a short piece (a detached bar) say one digit.
//
// Fitted (internal/canvasgap -pairs, logistic regression, MNIST rows weighted 10) on the readings where exactly
// one of the two is right: 1,837 MNIST validation digits (the last 5,000 training digits, which no shipped
// model trained on) drawn as 280×280 RGB, 76×64 grey and 120×100 inverse canvases, and 3,134 two-digit codes of
// validation writers (canvasgap -two 4000). Fitted on half and scored on the other half (both ways), the model
// got 3 and 0 MNIST rows wrong where the previous rule got 6 and 8, and 56 and 39 codes wrong where it got 94 and
// 107. The weights are the fit on all of them, with the stage-5 fp32 model: refit after retraining with
//
//	canvasgap -pairs > val.txt; canvasgap -two 4000 -pairs > two.txt; canvasgap -fit val.txt,two.txt
//
// (run against the build whose rule printed the PAIR lines; the features do not depend on the rule).
const (
	wsBias      = 10.76
	wsWhole     = 9.43
	wsSplitGeo  = -9.84
	wsSplitMin  = -5.96
	wsCut       = 3.40
	wsMinHeight = -14.93
)

// wholeWins reports whether whole, a one-digit candidate, beats split, the free segmentation's plan of two
// digits, by the logistic model above (Job.cutStrokes is the plan's cut).
func (j *Job) wholeWins(whole, split scored) bool {
	lw, ls := j.logConfs(whole.i), j.logConfs(split.i)
	h := float64(j.digits[j.cands[whole.i][0]].Box.Dy())
	short := float64(min(j.digits[j.cands[split.i][0]].Box.Dy(), j.digits[j.cands[split.i][1]].Box.Dy()))
	z := wsBias + wsWhole*lw[0] + wsSplitGeo*(ls[0]+ls[1])/2 + wsSplitMin*min(ls[0], ls[1]) +
		wsCut*j.cutStrokes + wsMinHeight*short/max(h, 1)
	return z > 0
}

// logConfs returns the log confidences of candidate i's digits.
func (j *Job) logConfs(i int) []float64 {
	out := make([]float64, len(j.cands[i]))
	for n, k := range j.cands[i] {
		out[n] = math.Log(max(float64(slices.Max(j.probs[k*10:(k+1)*10])), 1e-6))
	}
	return out
}
