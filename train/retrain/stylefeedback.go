package retrain

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"digitpad/server/store"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
	"digitpad/shared/synth"
)

// StyleCode is one five-digit code written in a style: what a clerk would have drawn and confirmed.
type StyleCode struct {
	Code   string
	Canvas *synth.Code
}

// StyleCodes draws n random five-digit codes and writes each with style on the pad (WriteOnCanvas), taking codes and
// writers from rng in the order the continual-learning proof test does (so the same seed gives its codes).
func StyleCodes(rng *rand.Rand, style Style, n int) ([]StyleCode, error) {
	out := make([]StyleCode, 0, n)
	for i := 0; i < n; i++ {
		code := make([]byte, 5)
		for k := range code {
			code[k] = byte('0' + rng.IntN(10))
		}
		c, err := WriteOnCanvas(string(code), style.Writer(rng, string(code)))
		if err != nil {
			return nil, err
		}
		out = append(out, StyleCode{Code: string(code), Canvas: c})
	}
	return out, nil
}

// StyleFeedback is what clerks writing in style send after n codes: each code of StyleCodes(rng, style, n) is
// read by rec as the server reads a five-digit code and confirmed with its true labels by client(i) (corrected
// where the reading differs). Codes that do not segment into five digits are left out — a clerk would redraw —
// so fewer than n records may come back; corrected counts the records the clerk had to correct.
func StyleFeedback(rec *recognize.Recognizer, rng *rand.Rand, style Style, n int, client func(i int) string, at time.Time) (fs []protocol.Feedback, corrected int, err error) {
	codes, err := StyleCodes(rng, style, n)
	if err != nil {
		return nil, 0, err
	}
	for i, sc := range codes {
		res, err := rec.Strokes(sc.Canvas.Strokes, CanvasW, CanvasH, recognize.Options{Format: "5"})
		if err != nil || len(res.Inputs) != len(sc.Code) {
			continue
		}
		labels := make([]int, len(sc.Code))
		for k, ch := range sc.Code {
			labels[k] = int(ch - '0')
		}
		f, err := protocol.NewFeedback(protocol.Confirmation{IdempotencyKey: fmt.Sprint("style-", i), ClientID: client(i),
			Labels: labels, Prediction: protocol.Prediction{Result: *res}, CreatedAt: at.Add(time.Duration(i) * time.Second)})
		if err != nil {
			return nil, 0, fmt.Errorf("retrain: feedback of code %d: %w", i, err)
		}
		if f.Predicted != f.Code {
			corrected++
		}
		fs = append(fs, f)
	}
	return fs, corrected, nil
}

// SaveFeedback stores records in order.
func SaveFeedback(ctx context.Context, st store.Store, fs []protocol.Feedback) error {
	for i := range fs {
		if _, _, err := st.SaveFeedback(ctx, fs[i]); err != nil {
			return fmt.Errorf("retrain: save feedback %d: %w", i, err)
		}
	}
	return nil
}
