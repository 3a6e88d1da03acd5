package protocol_test

import (
	"encoding/json"
	"errors"
	"testing"

	"digitpad/shared/ink"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// FuzzMessages: any websocket message or JSON body is decoded and validated without panicking, and every
// refusal is a *protocol.Error with a known code (seed corpus in testdata/fuzz/FuzzMessages).
func FuzzMessages(f *testing.F) {
	f.Add([]byte(`{"v":1,"type":"predict","id":"a","data":{"strokes":[[[1,2],[3,4]]],"width":10,"height":10}}`))
	f.Add([]byte(`{"v":1,"type":"feedback","id":"b","data":{"idempotency_key":"k","client_id":"c","code":"12345"}}`))
	l := protocol.DefaultLimits()
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := protocol.DecodeEnvelope(b)
		check(t, err)
		if env == nil {
			return
		}
		var p protocol.Predict
		if json.Unmarshal(env.Data, &p) == nil {
			err := p.Validate(l)
			check(t, err)
			if err == nil && p.Image == "" {
				acceptedByInk(t, p)
			}
		}
		var fb protocol.Feedback
		if json.Unmarshal(env.Data, &fb) == nil {
			check(t, fb.Validate(l))
		}
	})
}

// acceptedByInk: strokes the protocol accepts are never malformed for the ink pipeline (at most over its drawing
// budget), so every refusal of a hostile request happens in Validate, with a protocol error code.
func acceptedByInk(t *testing.T, p protocol.Predict) {
	t.Helper()
	strokes := make([]ink.Stroke, len(p.Strokes))
	for i, s := range p.Strokes {
		for _, pt := range s {
			strokes[i] = append(strokes[i], ink.Point{X: pt[0], Y: pt[1]})
		}
	}
	if _, _, err := recognize.StrokesMask(strokes, p.Width, p.Height); err != nil && !errors.Is(err, ink.ErrTooLarge) {
		t.Fatalf("strokes valid for the protocol refused by ink: %v", err)
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code == "" || pe.Message == "" {
		t.Fatalf("refusal %v is not a protocol error with a code", err)
	}
}
