package protocol_test

import (
	"encoding/json"
	"errors"
	"testing"

	"digitpad/shared/protocol"
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
			check(t, p.Validate(l))
		}
		var fb protocol.Feedback
		if json.Unmarshal(env.Data, &fb) == nil {
			check(t, fb.Validate(l))
		}
	})
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
