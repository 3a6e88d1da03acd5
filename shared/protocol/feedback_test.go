package protocol_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

func confirmation() protocol.Confirmation {
	res := recognize.Result{
		Code:   "12",
		Digits: []recognize.Digit{{Digit: 1, Confidence: 0.9}, {Digit: 2, Confidence: 0.4}},
		Model:  recognize.ModelInfo{Name: "m", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		Inputs: make([][784]float32, 2),
	}
	res.Inputs[0][0] = 0.0019607842 // half-way: rounds up to 1
	res.Inputs[1][783] = 1
	return protocol.Confirmation{
		IdempotencyKey: "k", ClientID: "pad", Labels: []int{1, 7},
		Prediction: protocol.Prediction{ID: "p-1", Result: res},
		InkPNG:     []byte("png"),
		CreatedAt:  time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600)),
	}
}

func TestNewFeedback_FromALocalResult(t *testing.T) {
	f, err := protocol.NewFeedback(confirmation())
	if err != nil {
		t.Fatal(err)
	}
	if f.Code != "17" || f.Predicted != "12" || f.PredictionID != "p-1" || f.ClientID != "pad" || len(f.Digits) != 2 ||
		f.ModelSHA256 != confirmation().Prediction.Model.SHA256 || string(f.InkPNG) != "png" {
		t.Errorf("record %+v", f)
	}
	if f.CreatedAt.Location() != time.UTC || !f.CreatedAt.Equal(confirmation().CreatedAt) {
		t.Errorf("created_at %v, want the same instant in UTC", f.CreatedAt)
	}
	if len(f.Inputs) != 2 || f.Inputs[0][0] != 1 || f.Inputs[1][783] != 255 || f.Inputs[0][1] != 0 {
		t.Errorf("inputs not rounded by AppendInputBytes")
	}
}

// A server prediction carries its inputs as bytes already (rounded by the server with the same rule).
func TestNewFeedback_FromAServerPrediction(t *testing.T) {
	c := confirmation()
	want := protocol.InputBytes(c.Prediction.Result.Inputs)
	c.Prediction.Inputs = want
	c.Prediction.Result.Inputs = nil
	f, err := protocol.NewFeedback(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Inputs) != 2 || !bytes.Equal(f.Inputs[0], want[0]) || !bytes.Equal(f.Inputs[1], want[1]) {
		t.Errorf("inputs differ from the prediction's bytes")
	}
}

func TestNewFeedback_RefusesWhatTheServerWould(t *testing.T) {
	for name, edit := range map[string]func(*protocol.Confirmation){
		"no key":               func(c *protocol.Confirmation) { c.IdempotencyKey = "" },
		"no client":            func(c *protocol.Confirmation) { c.ClientID = "" },
		"no labels":            func(c *protocol.Confirmation) { c.Labels = nil },
		"labels ≠ inputs":      func(c *protocol.Confirmation) { c.Labels = []int{1} },
		"label not a digit":    func(c *protocol.Confirmation) { c.Labels = []int{1, 10} },
		"model sha256 not hex": func(c *protocol.Confirmation) { c.Prediction.Model.SHA256 = "xyz" },
	} {
		c := confirmation()
		edit(&c)
		var pe *protocol.Error
		if _, err := protocol.NewFeedback(c); !errors.As(err, &pe) || pe.Code != protocol.EInvalid {
			t.Errorf("%s: err = %v, want an invalid protocol error", name, err)
		}
	}
}

// A code whose digits the clerk deleted or inserted keeps its ink but no per-digit inputs; a typed code keeps
// neither ink nor inputs nor per-digit readings, only the code and what the model read.
func TestNewFeedback_EditedAndTypedCodesCarryNoInputs(t *testing.T) {
	c := confirmation()
	c.Labels, c.Edited = []int{1, 7, 3}, true
	f, err := protocol.NewFeedback(c)
	if err != nil {
		t.Fatal(err)
	}
	if f.Code != "173" || f.Inputs != nil || string(f.InkPNG) != "png" || len(f.Digits) != 2 || f.Predicted != "12" {
		t.Errorf("edited record %+v", f)
	}
	c = confirmation()
	c.Labels, c.Typed = []int{4, 2, 4}, true
	if f, err = protocol.NewFeedback(c); err != nil {
		t.Fatal(err)
	}
	if f.Code != "424" || f.Inputs != nil || f.InkPNG != nil || f.Digits != nil || f.Predicted != "12" || f.ModelSHA256 == "" {
		t.Errorf("typed record %+v", f)
	}
}
