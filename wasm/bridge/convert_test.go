package bridge

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"digitpad/shared/ink"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

func flat(strokes ...[]float32) ([]byte, []uint32) {
	var pts []byte
	var ends []uint32
	n := 0
	for _, s := range strokes {
		for _, v := range s {
			pts = binary.LittleEndian.AppendUint32(pts, math.Float32bits(v))
		}
		n += len(s) / 2
		ends = append(ends, uint32(n))
	}
	return pts, ends
}

func TestStrokesFromFlat_RebuildsScaledStrokes(t *testing.T) {
	pts, ends := flat([]float32{1, 2, 3, 4}, []float32{}, []float32{5, 6})
	got, err := strokesFromFlat(pts, ends, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []ink.Stroke{{{X: 2, Y: 4}, {X: 6, Y: 8}}, {{X: 10, Y: 12}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("strokes = %v, want %v (empty strokes dropped)", got, want)
	}
}

func TestStrokesFromFlat_RejectsMalformedInput(t *testing.T) {
	pts, _ := flat([]float32{1, 2, 3, 4})
	nan, nanEnds := flat([]float32{1, float32(math.NaN())})
	tests := []struct {
		name string
		pts  []byte
		ends []uint32
	}{
		{"half a point", pts[:12], []uint32{1}},
		{"end past the points", pts, []uint32{3}},
		{"ends out of order", pts, []uint32{2, 1}},
		{"not a number", nan, nanEnds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := strokesFromFlat(tt.pts, tt.ends, 1)
			if !errors.Is(err, errInvalid) {
				t.Errorf("err = %v, want an invalid-input error", err)
			}
		})
	}
}

func TestCheckSize(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		ok   bool
	}{
		{"phone canvas", 360, 140, true},
		{"zero width", 0, 100, false},
		{"negative height", 100, -1, false},
		{"too large", maxSide + 1, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkSize(tt.w, tt.h); (err == nil) != tt.ok {
				t.Errorf("checkSize(%d, %d) = %v, want ok=%v", tt.w, tt.h, err, tt.ok)
			}
		})
	}
}

func TestRGBAImage_ChecksLength(t *testing.T) {
	if _, err := rgbaImage(make([]byte, 4*3*2), 3, 2); err != nil {
		t.Errorf("exact size: %v", err)
	}
	if _, err := rgbaImage(make([]byte, 4*3*2-1), 3, 2); !errors.Is(err, errInvalid) {
		t.Errorf("short pixels: err = %v, want invalid", err)
	}
}

func TestResultObject_HasFeedbackFields(t *testing.T) {
	res := &recognize.Result{
		Code:    "7",
		Digits:  []recognize.Digit{{Digit: 7, Confidence: 0.5, Box: [4]int{1, 2, 3, 4}}},
		Confirm: []int{0},
		Model:   recognize.ModelInfo{Name: "m", SHA256: "abc"},
		Inputs:  make([][784]float32, 1),
	}
	res.Inputs[0][0] = 1
	got := resultObject(res)
	inputs := got["inputs"].([]any)
	if len(inputs) != 1 || len(inputs[0].(string)) != 1048 { // base64 of 784 bytes
		t.Fatalf("inputs = %v, want one base64 string of 784 bytes", inputs)
	}
	if inputs[0].(string)[:2] != "/w" { // 0xFF first
		t.Errorf("input starts %q, want the ink byte 255 first", inputs[0].(string)[:2])
	}
	d := got["digits"].([]any)[0].(map[string]any)
	if d["digit"] != 7 || len(d["probs"].([]any)) != 10 || len(d["box"].([]any)) != 4 {
		t.Errorf("digit object = %v", d)
	}
	if got["model"].(map[string]any)["sha256"] != "abc" {
		t.Errorf("model = %v", got["model"])
	}
}

// The bridge's error codes must be the protocol's, so the page treats worker and server errors alike.
func TestErrorObject_UsesProtocolCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no ink", fmt.Errorf("segment: %w", ink.ErrNoInk), protocol.ENoInk},
		{"invalid", wrapInvalid("bad"), protocol.EInvalid},
		{"other", errors.New("boom"), protocol.EInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorObject(tt.err)["error"].(map[string]any)["code"]
			if got != tt.want {
				t.Errorf("code = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWorkScale_ShrinksTallCanvasesOnly(t *testing.T) {
	tests := []struct {
		name         string
		w, h         int
		wantW, wantH int
	}{
		{"phone pad stays", 340, 150, 340, 150},
		{"desktop pad shrinks to the working height", 1164, 364, 512, 160},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotW, gotH := recognize.WorkSize(tt.w, tt.h, recognize.WorkScale(tt.h))
			if gotW != tt.wantW || gotH != tt.wantH {
				t.Errorf("working raster %dx%d, want %dx%d", gotW, gotH, tt.wantW, tt.wantH)
			}
		})
	}
}

func TestUnscaleBoxes_CoverTheCanvasBox(t *testing.T) {
	res := &recognize.Result{Digits: []recognize.Digit{{Box: [4]int{10, 20, 31, 159}}}}
	res.UnscaleBoxes(0.5, 100, 300)
	if got, want := res.Digits[0].Box, [4]int{20, 40, 62, 300}; got != want {
		t.Errorf("box = %v, want %v (clamped to the canvas)", got, want)
	}
}

// recordObject is what the page stores and sends: its JSON must decode to the same protocol.Feedback and carry
// the same fields as encoding/json's, for a full record and for a minimal one.
func TestRecordObject_IsFeedbackJSON(t *testing.T) {
	full := protocol.Feedback{
		IdempotencyKey: "k-1", PredictionID: "p-1", ClientID: "pad", Code: "07", Labels: []int{0, 7},
		Predicted: "01", Digits: []recognize.Digit{{Digit: 0, Confidence: 0.5, Box: [4]int{1, 2, 3, 4}},
			{Digit: 1, Confidence: 0.25, Probs: [10]float64{1: 0.25, 7: 0.125}, Box: [4]int{5, 6, 7, 8}}},
		InkPNG: []byte{0x89, 'P', 'N', 'G'}, Inputs: [][]byte{make([]byte, 784), bytes.Repeat([]byte{255}, 784)},
		ModelSHA256: strings.Repeat("ab", 32), CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 60_000_000, time.UTC),
	}
	minimal := protocol.Feedback{IdempotencyKey: "k", ClientID: "c", Code: "1",
		CreatedAt: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)}
	for _, f := range []protocol.Feedback{full, minimal} {
		page, err := json.Marshal(recordObject(f))
		if err != nil {
			t.Fatal(err)
		}
		goJSON, _ := json.Marshal(f)
		var a, b map[string]any
		json.Unmarshal(page, &a)
		json.Unmarshal(goJSON, &b)
		if !reflect.DeepEqual(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))) {
			t.Errorf("fields %v, want encoding/json's %v", slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
		}
		var back protocol.Feedback
		if err := json.Unmarshal(page, &back); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		if !reflect.DeepEqual(back, f) {
			t.Errorf("record object decodes to\n%+v\nwant\n%+v", back, f)
		}
	}
}

func TestFeedbackRecord_RejectsBadConfirmations(t *testing.T) {
	strokes := []ink.Stroke{{{X: 20, Y: 10}, {X: 21, Y: 40}}}
	res := resultObject(&recognize.Result{Code: "1", Digits: []recognize.Digit{{Digit: 1}}, Inputs: make([][784]float32, 1)})
	var shown map[string]any
	b, _ := json.Marshal(res)
	json.Unmarshal(b, &shown)
	good := func() map[string]any {
		return map[string]any{"idempotency_key": "k", "client_id": "c", "labels": []any{1.0},
			"created_at": 1.7e12, "prediction": shown}
	}
	if _, err := feedbackRecord(strokes, 60, 60, good()); err != nil {
		t.Fatalf("a good confirmation: %v", err)
	}
	for name, edit := range map[string]func(map[string]any){
		"no key":             func(c map[string]any) { delete(c, "idempotency_key") },
		"labels not numbers": func(c map[string]any) { c["labels"] = []any{"1"} },
		"fractional label":   func(c map[string]any) { c["labels"] = []any{1.5} },
		"label not a digit":  func(c map[string]any) { c["labels"] = []any{12.0} },
		"labels ≠ digits":    func(c map[string]any) { c["labels"] = []any{1.0, 2.0} },
		"no created_at":      func(c map[string]any) { delete(c, "created_at") },
		"NaN created_at":     func(c map[string]any) { c["created_at"] = math.NaN() },
		"no prediction":      func(c map[string]any) { delete(c, "prediction") },
		"bad input bytes": func(c map[string]any) {
			c["prediction"] = map[string]any{"code": "1", "inputs": []any{"AAAA"}}
		},
		"client id not a string": func(c map[string]any) { c["client_id"] = 3.0 },
	} {
		c := good()
		edit(c)
		if _, err := feedbackRecord(strokes, 60, 60, c); !errors.Is(err, errInvalid) {
			t.Errorf("%s: err = %v, want invalid", name, err)
		}
	}
}

// A confirmation whose digits the clerk deleted or inserted ("edited") gives a record with ink and no inputs;
// a typed code ("typed", possibly on an empty pad) gives a record with neither.
func TestFeedbackRecord_EditedAndTyped(t *testing.T) {
	strokes := []ink.Stroke{{{X: 20, Y: 10}, {X: 21, Y: 40}}}
	res := resultObject(&recognize.Result{Code: "1", Digits: []recognize.Digit{{Digit: 1}}, Inputs: make([][784]float32, 1)})
	var shown map[string]any
	b, _ := json.Marshal(res)
	json.Unmarshal(b, &shown)
	c := map[string]any{"idempotency_key": "k", "client_id": "c", "labels": []any{1.0, 4.0},
		"created_at": 1.7e12, "prediction": shown, "edited": true}
	f, err := feedbackRecord(strokes, 60, 60, c)
	if err != nil || f.Code != "14" || f.Inputs != nil || len(f.InkPNG) == 0 || f.Predicted != "1" {
		t.Errorf("edited: %+v %v", f, err)
	}
	c = map[string]any{"idempotency_key": "k", "client_id": "c", "labels": []any{3.0, 0.0},
		"created_at": 1.7e12, "prediction": map[string]any{}, "typed": true}
	f, err = feedbackRecord(nil, 60, 60, c)
	if err != nil || f.Code != "30" || f.Inputs != nil || f.InkPNG != nil || f.Digits != nil {
		t.Errorf("typed on an empty pad: %+v %v", f, err)
	}
}
