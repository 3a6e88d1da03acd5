package monitor

import (
	"time"

	"digitpad/shared/recognize"
)

// FromResult turns a recognition result into what monitoring keeps of it. The digits' inputs are referenced,
// not copied: the result must not change afterwards.
func FromResult(res *recognize.Result, client string, t time.Time) Prediction {
	p := Prediction{Time: t, Model: res.Model.SHA256, Client: client, Confirm: len(res.Confirm) > 0,
		Digits: make([]Digit, len(res.Digits))}
	for i, d := range res.Digits {
		p.Digits[i] = Digit{Probs: d.Probs, Box: d.Box}
		if i < len(res.Inputs) {
			p.Digits[i].Input = &res.Inputs[i]
		}
		if i < len(res.Embeddings) {
			p.Digits[i].Embedding = res.Embeddings[i]
		}
	}
	return p
}
