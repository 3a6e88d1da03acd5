package protocol_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"digitpad/shared/protocol"
)

func code(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	if err != nil {
		return "not a *protocol.Error: " + err.Error()
	}
	return ""
}

func TestPredictValidate(t *testing.T) {
	l := protocol.DefaultLimits()
	stroke := [][][2]float64{{{1, 2}, {3, 4}}}
	many := make([][][2]float64, l.MaxStrokes+1)
	long := [][][2]float64{make([][2]float64, l.MaxPoints+1)}
	cases := []struct {
		name string
		p    protocol.Predict
		want string
	}{
		{"image", protocol.Predict{Image: "aGVsbG8="}, ""},
		{"strokes", protocol.Predict{Strokes: stroke, Width: 100, Height: 50}, ""},
		{"empty strokes on a canvas", protocol.Predict{Strokes: [][][2]float64{}, Width: 100, Height: 50}, ""},
		{"nothing", protocol.Predict{}, protocol.EInvalid},
		{"both", protocol.Predict{Image: "aGVsbG8=", Strokes: stroke, Width: 1, Height: 1}, protocol.EInvalid},
		{"strokes without size", protocol.Predict{Strokes: stroke}, protocol.EInvalid},
		{"negative size", protocol.Predict{Strokes: stroke, Width: -1, Height: 5}, protocol.EInvalid},
		{"30000x30000 canvas", protocol.Predict{Strokes: stroke, Width: 30000, Height: 30000}, protocol.ETooLarge},
		{"too many strokes", protocol.Predict{Strokes: many, Width: 10, Height: 10}, protocol.ETooLarge},
		{"too many points", protocol.Predict{Strokes: long, Width: 10, Height: 10}, protocol.ETooLarge},
		{"NaN point", protocol.Predict{Strokes: [][][2]float64{{{math.NaN(), 1}}}, Width: 10, Height: 10}, protocol.EInvalid},
		{"point near 1e300", protocol.Predict{Strokes: [][][2]float64{{{1, 1}, {1e300, -1e300}}}, Width: 10, Height: 10}, protocol.EInvalid},
		{"point off the canvas", protocol.Predict{Strokes: [][][2]float64{{{-500, 1}, {5000, 12}}}, Width: 10, Height: 10}, ""},
		{"image too large", protocol.Predict{Image: strings.Repeat("A", l.MaxImageBytes*2)}, protocol.ETooLarge},
		{"long format", protocol.Predict{Image: "aGk=", Format: strings.Repeat("9", 200)}, protocol.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := code(c.p.Validate(l)); got != c.want {
				t.Errorf("Validate() code = %q, want %q", got, c.want)
			}
		})
	}
}

func TestFeedbackValidate(t *testing.T) {
	l := protocol.DefaultLimits()
	ok := func() protocol.Feedback {
		return protocol.Feedback{IdempotencyKey: "k", ClientID: "pad", Code: "80331", Labels: []int{8, 0, 3, 3, 1}}
	}
	with := func(f func(*protocol.Feedback)) protocol.Feedback { v := ok(); f(&v); return v }
	cases := []struct {
		name string
		f    protocol.Feedback
		want string
	}{
		{"valid", ok(), ""},
		{"labels only", with(func(f *protocol.Feedback) { f.Code = "" }), ""},
		{"code only", with(func(f *protocol.Feedback) { f.Labels = nil }), ""},
		{"label 12", with(func(f *protocol.Feedback) { f.Code = ""; f.Labels = []int{1, 12} }), protocol.EInvalid},
		{"negative label", with(func(f *protocol.Feedback) { f.Code = ""; f.Labels = []int{-1} }), protocol.EInvalid},
		{"code and labels disagree", with(func(f *protocol.Feedback) { f.Code = "80332" }), protocol.EInvalid},
		{"letters in code", with(func(f *protocol.Feedback) { f.Code = "8033A"; f.Labels = nil }), protocol.EInvalid},
		{"no code or labels", with(func(f *protocol.Feedback) { f.Code = ""; f.Labels = nil }), protocol.EInvalid},
		{"no key", with(func(f *protocol.Feedback) { f.IdempotencyKey = "" }), protocol.EInvalid},
		{"no client", with(func(f *protocol.Feedback) { f.ClientID = "" }), protocol.EInvalid},
		{"control character in key", with(func(f *protocol.Feedback) { f.IdempotencyKey = "a\x00b" }), protocol.EInvalid},
		{"long key", with(func(f *protocol.Feedback) { f.IdempotencyKey = strings.Repeat("k", 200) }), protocol.EInvalid},
		{"short input", with(func(f *protocol.Feedback) { f.Inputs = [][]byte{make([]byte, 10)} }), protocol.EInvalid},
		{"inputs per digit", with(func(f *protocol.Feedback) { f.Inputs = [][]byte{make([]byte, 784)} }), protocol.EInvalid},
		{"bad sha", with(func(f *protocol.Feedback) { f.ModelSHA256 = "xyz" }), protocol.EInvalid},
		{"ink too large", with(func(f *protocol.Feedback) { f.InkPNG = make([]byte, l.MaxImageBytes+1) }), protocol.ETooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := code(c.f.Validate(l)); got != c.want {
				t.Errorf("Validate() code = %q, want %q", got, c.want)
			}
		})
	}
}

func TestDecodeEnvelope(t *testing.T) {
	cases := []struct {
		name, msg, want string
	}{
		{"predict", `{"v":1,"type":"predict","id":"a","data":{}}`, ""},
		{"unknown type passes to the receiver", `{"v":1,"type":"dance"}`, ""},
		{"malformed", `{"v":1,`, protocol.EInvalid},
		{"old version", `{"v":0,"type":"predict"}`, protocol.EInvalid},
		{"missing type", `{"v":1}`, protocol.EInvalid},
		{"long id", `{"v":1,"type":"predict","id":"` + strings.Repeat("x", 200) + `"}`, protocol.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := protocol.DecodeEnvelope([]byte(c.msg))
			if got := code(err); got != c.want {
				t.Errorf("DecodeEnvelope code = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNewEnvelope_RoundTrips(t *testing.T) {
	env, err := protocol.NewEnvelope(protocol.TypeAck, "m1", protocol.Ack{IdempotencyKey: "k", FeedbackID: "f"})
	if err != nil {
		t.Fatal(err)
	}
	if env.V != protocol.Version || env.Type != protocol.TypeAck || env.ID != "m1" ||
		string(env.Data) != `{"idempotency_key":"k","feedback_id":"f"}` {
		t.Errorf("envelope = %+v data %s", env, env.Data)
	}
}

func TestLabelsCode(t *testing.T) {
	if got := protocol.LabelsCode([]int{0, 7, 9}); got != "079" {
		t.Errorf("LabelsCode = %q, want 079", got)
	}
}

// The farthest points the protocol accepts are accepted by the ink pipeline too: the protocol's coordinate bound is
// the tighter one, so the ink pipeline never refuses a validated request as malformed.
func TestPredictValidate_FarthestPointsReachInk(t *testing.T) {
	const c = protocol.MaxCoord
	p := protocol.Predict{Width: 640, Height: 160, Strokes: [][][2]float64{{{300, 40}, {330, 120}}, {{-c, c}, {c, -c}}}}
	if err := p.Validate(protocol.DefaultLimits()); err != nil {
		t.Fatalf("points at ±MaxCoord: %v", err)
	}
	acceptedByInk(t, p)
}
