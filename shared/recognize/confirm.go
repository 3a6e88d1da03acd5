package recognize

import (
	"cmp"
	"image"
	"math"
	"slices"
)

// ConfirmDigits is the confirm policy, the one rule the server, the kiosk and the web pad (through the wasm
// bridge) take their "please confirm" flags from (Result.Confirm, through ConfirmModel.Confirm). conf are the
// digits' confirm scores: their calibrated confidences, lowered by the card's ConfirmModel for digits whose
// shape makes them doubtful. A code asks the clerk when the product of its scores (without a model:
// Result.Confidence, the probability that the whole code is right) is below threshold. The flagged digits are then the fewest, least confident first, whose check by the
// clerk lifts the rest of the code to the threshold: every digit below the threshold on its own, and more where
// several doubtful digits add up. It returns indexes into conf in increasing order; an empty slice when the code
// may pass. A threshold above 1 flags every digit.
//
// On validation codes the product rule asks 2-3 points fewer codes than flagging each digit below a threshold,
// and the shape model about 5 fewer still, at the same silent-error rate (`digitpad calibrate` fits the model
// and chooses the threshold on the risk-coverage curve).
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

// StrokeThreshold is the confirm threshold the recogniser applies to stroke input (confirmPolicy).
func (r *Recognizer) StrokeThreshold() float64 { return r.strokes.threshold }

// policy is a confirm policy: the confirm model that scores a code's digits and the threshold the code's score
// must reach (ConfirmModel.Confirm).
type policy struct {
	model     ConfirmModel
	threshold float64
}

// confirmPolicy is the confirm policy for the job's reading: stroke input (a mask drawn from pen paths, as the pad
// and the kiosk send) has its own, chosen by `digitpad calibrate` on validation codes read from their strokes;
// other input has the image one. The choice goes by the input, not by which reading won (the stroke lattice's or
// the image reading of the rendered strokes): a threshold meets its silent-error target on the population it
// was chosen on, and the clerk's stroke codes are one population, whichever reading wins each; the image
// readings of stroke input (confident ones: the stroke lattice is read only below strokeMargin) are not the
// canvas images the image threshold was chosen on either.
func (j *Job) confirmPolicy() policy {
	if j.m != nil && len(j.m.Strokes) > 0 {
		return j.r.strokes
	}
	return policy{model: j.r.confirm, threshold: j.r.threshold}
}

// ConfirmModel is the learned part of the confirm rule: how much a digit's shape and the reader it came from add
// to the doubt its confidence leaves (`digitpad calibrate` fits it on validation codes and stores it in the model
// card's calibration object as confirm_model). A digit's confirm score is
//
//	confidence^(1 − Pair·[read by the pair reader]) · exp(−Short·short − ShortOne·short·[read as 1] − Edge·[at the edge])
//
// where short is how much shorter the digit's box is than the code's median digit height (−ln of the ratio, 0
// for a digit at least as tall; Doubts). A stroke piece of a 7 without its bar, of a 4 or of a 0 is read as a
// confident "1" that stands lower than its neighbours; the pair reader's confidences (of two touching digits read
// as one piece) are on another scale than the digit model's calibrated ones: lower, on the codes it reads right.
// The calibrated confidence alone misses both. A digit at the canvas's left or right edge (Digit.Edge) may have
// lost ink beyond it: read from pen paths, such digits are read wrong without asking 8 times as often as others. The code's score is the product of its digits' scores, and
// ConfirmDigits decides on those scores. The zero value scores every digit by its confidence alone (the rule
// before the model, and what a card without confirm_model gets); a card without pair reads pair digits'
// confidences as they are.
type ConfirmModel struct {
	// Short weighs a digit's shortness (any class).
	Short float64 `json:"short"`
	// ShortOne adds to Short for a digit read as 1.
	ShortOne float64 `json:"short_one"`
	// Pair discounts the log-confidence of a digit the pair reader read (its confidences are not the digit
	// model's calibrated ones): it counts (1 − Pair) times. On validation codes (10,000, fp32) the fitted 0.45–0.49
	// asks ~0.5-1 point fewer codes at the same silent-error rate, and as much on held-out ones.
	Pair float64 `json:"pair,omitempty"`
	// Edge lowers the score of a digit at the canvas's left or right edge (Digit.Edge) by the factor exp(−Edge).
	// `digitpad calibrate` fits it for stroke input only: of 10,000 validation codes read from their strokes,
	// 10 of the 240 with a digit at the edge are wrong and 8 of those pass silently (43 of the other 9,760); read
	// from images the confidence already asks 44 of their 48 wrong ones, and a fitted edge weight asks ~1 point
	// more codes at the same silent-error rate.
	Edge float64 `json:"edge,omitempty"`
}

// Doubt is what the confirm rule knows of one digit of a code (Doubts): the features ConfirmModel weighs.
type Doubt struct {
	// Confidence is the digit's calibrated confidence.
	Confidence float64
	// Short is −ln(box height / the code's median digit height) when the digit is shorter, else 0.
	Short float64
	// One says the digit is read as 1.
	One bool
	// Pair says the pair reader read the digit (Digit.Pair).
	Pair bool
	// Edge says the digit touches the canvas's left or right edge (Digit.Edge).
	Edge bool
}

// Doubts are the confirm rule's features of a code's digits, in order (a single digit is never short).
func Doubts(digits []Digit) []Doubt {
	hs := make([]int, len(digits))
	for i, d := range digits {
		hs[i] = d.Box[3] - d.Box[1]
	}
	slices.Sort(hs)
	out := make([]Doubt, len(digits))
	for i, d := range digits {
		out[i] = Doubt{Confidence: d.Confidence, One: d.Digit == 1, Pair: d.Pair, Edge: d.Edge}
		if h, mh := d.Box[3]-d.Box[1], hs[len(hs)/2]; h > 0 && h < mh {
			out[i].Short = math.Log(float64(mh) / float64(h))
		}
	}
	return out
}

// atEdge reports whether a digit box (canvas pixels) touches the left or right edge of the job's canvas.
func (j *Job) atEdge(b image.Rectangle) bool {
	if j.m == nil {
		return false
	}
	w := j.m.W
	if j.m.Factor > 1 {
		w = j.m.CanvasW
	}
	return b.Min.X <= 0 || b.Max.X >= w
}

// Score is a digit's confirm score (see ConfirmModel): its confidence lowered by the weighted shortness, and
// rescaled for a pair reading.
func (m ConfirmModel) Score(d Doubt) float64 {
	w := m.Short
	if d.One {
		w += m.ShortOne
	}
	lnc := 0.0
	if d.Pair && m.Pair != 0 {
		lnc = m.Pair * math.Log(max(d.Confidence, 1e-12))
	}
	doubt := w*d.Short + lnc
	if d.Edge {
		doubt += m.Edge
	}
	if doubt == 0 {
		return d.Confidence
	}
	return d.Confidence * math.Exp(-doubt)
}

// Confirm is the confirm policy on a code's digits: ConfirmDigits on their confirm scores (Score of Doubts).
func (m ConfirmModel) Confirm(digits []Digit, threshold float64) []int {
	ds := Doubts(digits)
	scores := make([]float64, len(ds))
	for i, d := range ds {
		scores[i] = m.Score(d)
	}
	return ConfirmDigits(scores, threshold)
}
