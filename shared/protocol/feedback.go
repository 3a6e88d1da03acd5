package protocol

import (
	"time"
)

// Confirmation is what a shell knows when a clerk confirms a code: the prediction the clerk saw (recognised
// locally or by the server), the final digits, the ink, and the record's identity.
type Confirmation struct {
	// IdempotencyKey identifies the record across resends (a random UUID); ClientID the pad or kiosk.
	IdempotencyKey string
	ClientID       string
	// Labels are the confirmed digits, one per recognised digit, after the clerk's corrections.
	Labels []int
	// Prediction is the recognition the clerk confirmed: ID (server predictions only), code, digits, model, and
	// the 28×28 inputs, either as 0..1 floats (Result.Inputs, local recognition) or already as bytes (Inputs,
	// a server prediction asked with Predict.Inputs). Float inputs are used when present.
	Prediction Prediction
	// InkPNG is the ink the model saw, as ink.EncodeMaskPNG writes it.
	InkPNG []byte
	// CreatedAt is when the clerk confirmed; stored in UTC.
	CreatedAt time.Time
	// Edited: the clerk deleted or inserted digits (recognize.Review.Edited), so the labels no longer pair with
	// the recogniser's digits. The record keeps the ink and the model's reading but no per-digit inputs: they
	// would teach a digit from half a digit, or from a neighbour's ink.
	Edited bool
	// Typed: the clerk typed the whole code (recognize.ReviewTyped). No ink, inputs or per-digit readings go
	// into the record, only the code and what the model had read (Predicted, the model), so a typed code is
	// never training data with ink it does not describe; retraining skips records without inputs or ink.
	Typed bool
}

// NewFeedback builds the feedback record of a confirmation: the one place where kiosk, web pad (through the
// wasm bridge) and any other client turn a confirmed code into training data, so the same ink yields the same
// bytes everywhere. Inputs are rounded by AppendInputBytes. The record is checked against DefaultLimits.
func NewFeedback(c Confirmation) (Feedback, error) {
	p := &c.Prediction
	f := Feedback{
		IdempotencyKey: c.IdempotencyKey,
		PredictionID:   p.ID,
		ClientID:       c.ClientID,
		Code:           LabelsCode(c.Labels),
		Labels:         c.Labels,
		Predicted:      p.Code,
		Digits:         p.Digits,
		InkPNG:         c.InkPNG,
		Inputs:         p.Inputs,
		ModelSHA256:    p.Model.SHA256,
		CreatedAt:      c.CreatedAt.UTC(),
	}
	if len(p.Result.Inputs) > 0 {
		f.Inputs = InputBytes(p.Result.Inputs)
	}
	if c.Edited || c.Typed {
		f.Inputs = nil
	}
	if c.Typed {
		f.InkPNG, f.Digits = nil, nil
	}
	if len(f.Inputs) == 0 {
		f.Inputs = nil
	}
	if err := f.Validate(DefaultLimits()); err != nil {
		return Feedback{}, err
	}
	return f, nil
}
