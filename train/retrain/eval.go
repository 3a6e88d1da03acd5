package retrain

import (
	"fmt"
	"math"

	"digitpad/assets"
	"digitpad/shared/model"
	"digitpad/shared/recognize"
)

// Set is a labelled evaluation set (inputs 0..1, ink = 1).
type Set struct {
	Name   string
	Images []float32
	Labels []uint8
}

// Len is the number of samples.
func (s *Set) Len() int { return len(s.Labels) }

// Scores are one model's predictions on one set.
type Scores struct {
	Set       string      `json:"set"`
	N         int         `json:"n"`
	Accuracy  float64     `json:"accuracy"`
	PerClass  [10]float64 `json:"per_class"`
	ClassN    [10]int     `json:"class_n"`
	Confusion [10][10]int `json:"confusion"`
	// ConfirmRate is the share of digits below the confirmation threshold (the clerk is asked);
	// SilentErrorRate the share that are wrong yet above it (nobody is asked).
	ConfirmRate     float64 `json:"confirm_rate"`
	SilentErrorRate float64 `json:"silent_error_rate"`
	Preds           []uint8 `json:"-"`
	Conf            []float32
}

// Score runs m on every sample of s as the card says (input scale; calibrated temperature and confirm threshold
// for the confirm and silent-error rates, as the recogniser applies them).
func Score(m *model.Model, card assets.Card, s *Set) (*Scores, error) {
	scale := card.InputScale
	if scale == 0 {
		scale = 1
	}
	threshold := card.Calibration.Threshold
	if threshold == 0 {
		threshold = recognize.DefaultThreshold
	}
	temp := card.Calibration.Temperature
	const batch = 64
	n := s.Len()
	if m.InputSize() != 784 || m.OutputSize() < 10 {
		return nil, fmt.Errorf("retrain: model takes %d inputs, gives %d outputs", m.InputSize(), m.OutputSize())
	}
	out := &Scores{Set: s.Name, N: n, Preds: make([]uint8, n), Conf: make([]float32, n)}
	in := make([]float32, batch*784)
	probs := make([]float32, batch*m.OutputSize())
	confirm, silent, right := 0, 0, 0
	for from := 0; from < n; from += batch {
		b := min(batch, n-from)
		for i, v := range s.Images[from*784 : (from+b)*784] {
			in[i] = v * scale
		}
		if err := m.Run(in[:b*784], b, probs[:b*m.OutputSize()]); err != nil {
			return nil, fmt.Errorf("retrain: score %s: %w", s.Name, err)
		}
		for i := 0; i < b; i++ {
			row := probs[i*m.OutputSize() : i*m.OutputSize()+10]
			p := argmax(row)
			c := calibrated(row, p, temp)
			k := from + i
			out.Preds[k], out.Conf[k] = uint8(p), c
			l := s.Labels[k]
			out.Confusion[l][p]++
			ok := p == int(l)
			if ok {
				right++
			}
			if float64(c) < threshold {
				confirm++
			} else if !ok {
				silent++
			}
		}
	}
	out.rates(right, confirm, silent)
	return out, nil
}

// rates fills the shares of right, asked and silently wrong digits and the per-class accuracies from the
// confusion matrix.
func (out *Scores) rates(right, confirm, silent int) {
	if n := out.N; n > 0 {
		out.Accuracy = float64(right) / float64(n)
		out.ConfirmRate = float64(confirm) / float64(n)
		out.SilentErrorRate = float64(silent) / float64(n)
	}
	for l := range out.Confusion {
		for _, v := range out.Confusion[l] {
			out.ClassN[l] += v
		}
		if out.ClassN[l] > 0 {
			out.PerClass[l] = float64(out.Confusion[l][l]) / float64(out.ClassN[l])
		}
	}
}

// ScoreCodes reads the digits of each feedback record in ss (a record's samples are consecutive) together with
// rec, as a served reading of that code is read: the digits' calibrated probabilities, and the second reader, when
// rec has one, consulted on the digits in doubt of a reading of two or more digits. A digit counts as asked when
// rec's confirm policy flags it (recognize.Result.Confirm) and as a silent error when it is wrong and not flagged.
func ScoreCodes(rec *recognize.Recognizer, name string, ss []Sample) (*Scores, error) {
	out := &Scores{Set: name, N: len(ss), Preds: make([]uint8, len(ss)), Conf: make([]float32, len(ss))}
	confirm, silent, right := 0, 0, 0
	for from := 0; from < len(ss); {
		to := from + 1
		for to < len(ss) && ss[to].RecordID == ss[from].RecordID {
			to++
		}
		in := make([][784]float32, to-from)
		for i := range in {
			in[i] = ss[from+i].Input
		}
		r, err := rec.Digits(in, recognize.Options{})
		if err != nil {
			return nil, fmt.Errorf("retrain: score %s: record %s: %w", name, ss[from].RecordID, err)
		}
		asked := make([]bool, len(in))
		for _, k := range r.Confirm {
			asked[k] = true
		}
		for i, d := range r.Digits {
			k := from + i
			out.Preds[k], out.Conf[k] = uint8(d.Digit), float32(d.Confidence)
			l := ss[k].Label
			out.Confusion[l][d.Digit]++
			ok := d.Digit == int(l)
			if ok {
				right++
			}
			if asked[i] {
				confirm++
			} else if !ok {
				silent++
			}
		}
		from = to
	}
	out.rates(right, confirm, silent)
	return out, nil
}

// calibrated is class p's probability after temperature scaling (p_i^(1/T), renormalised; T <= 0: none).
func calibrated(row []float32, p int, temp float64) float32 {
	if temp <= 0 || temp == 1 {
		return row[p]
	}
	var sum, top float64
	for i, v := range row {
		q := math.Pow(math.Max(float64(v), 1e-30), 1/temp)
		sum += q
		if i == p {
			top = q
		}
	}
	return float32(top / sum)
}

// McNemar compares two classifiers on the same samples: b counts samples only the base gets right, c those only
// the candidate gets right. It returns the exact two-sided binomial p-value of the discordant pairs (exact for
// any count, so small holdouts are judged correctly).
func McNemar(base, cand []uint8, labels []uint8) (b, c int, p float64) {
	for i, l := range labels {
		bo, co := base[i] == l, cand[i] == l
		switch {
		case bo && !co:
			b++
		case co && !bo:
			c++
		}
	}
	n := b + c
	if n == 0 {
		return b, c, 1
	}
	k := min(b, c)
	// P(X <= k) for X ~ Bin(n, 1/2), summed in log space.
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	sum := 0.0
	for i := 0; i <= k; i++ {
		sum += math.Exp(lg(n) - lg(i) - lg(n-i) - float64(n)*math.Ln2)
	}
	return b, c, math.Min(1, 2*sum)
}
