package recognize

import (
	"cmp"
	"slices"
)

// ConfirmDigits is the confirm policy, the one rule the server, the kiosk and the web pad (through the wasm
// bridge) take their "please confirm" flags from (Result.Confirm). A code asks the clerk when its confidence,
// the product of its digits' calibrated confidences (Result.Confidence: the probability that the whole code is
// right), is below threshold. The flagged digits are then the fewest, least confident first, whose check by the
// clerk lifts the rest of the code to the threshold: every digit below the threshold on its own, and more where
// several doubtful digits add up. It returns indexes into conf in increasing order; an empty slice when the code
// may pass. A threshold above 1 flags every digit.
//
// On validation codes the product rule asks 2-3 points fewer codes than flagging each digit below a threshold,
// at the same silent-error rate (`digitpad calibrate` chooses the threshold on the risk-coverage curve).
func ConfirmDigits(conf []float64, threshold float64) []int {
	flagged := []int{}
	if codeConfidence(conf, nil) >= threshold {
		return flagged
	}
	order := make([]int, len(conf))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(conf[a], conf[b]) })
	skip := make([]bool, len(conf))
	for _, i := range order {
		skip[i] = true
		flagged = append(flagged, i)
		if codeConfidence(conf, skip) >= threshold {
			break
		}
	}
	slices.Sort(flagged)
	return flagged
}

// codeConfidence is the product of the confidences not skipped (1 for none).
func codeConfidence(conf []float64, skip []bool) float64 {
	p := 1.0
	for i, c := range conf {
		if skip == nil || !skip[i] {
			p *= c
		}
	}
	return p
}

// Threshold is the confirm threshold the recogniser applies (ConfirmDigits): the caller's, else the model
// card's, else DefaultThreshold. A caller that reads unrelated digits in one call (Digits on a batch of single
// digits) applies the rule to each digit with it.
func (r *Recognizer) Threshold() float64 { return r.threshold }
