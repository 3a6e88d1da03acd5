package bridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"

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

func TestInputBytes_MapsZeroOneTo0To255(t *testing.T) {
	var in [784]float32
	in[0], in[1], in[2], in[3], in[4] = 0, 1, 0.5, -3, 7
	got := inputBytes(&in)
	want := []byte{0, 255, 128, 0, 255}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("byte %d = %d, want %d", i, got[i], w)
		}
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
