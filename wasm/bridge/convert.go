// Package bridge exposes the shared recogniser to JavaScript through syscall/js (see Register). The conversions
// between flat typed-array data and Go values live in files without build tags, so they are tested natively too.
package bridge

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"image"
	"math"
	"strconv"

	"digitpad/shared/ink"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// Limits keep a hostile or buggy page from making the worker allocate without bound.
const (
	maxSide   = 8192    // canvas side in pixels
	maxPoints = 1 << 20 // pointer samples per call
)

// errInvalid marks caller mistakes (bad sizes, malformed arrays); the JS side gets code "invalid".
var errInvalid = errors.New("invalid input")

// strokesFromFlat rebuilds strokes from the wire layout used by the worker: points holds little-endian float32
// pairs x0,y0,x1,y1,... and ends[i] is the exclusive end (in points, not floats) of stroke i. Coordinates are
// multiplied by scale.
func strokesFromFlat(points []byte, ends []uint32, scale float64) ([]ink.Stroke, error) {
	if len(points)%8 != 0 {
		return nil, wrapInvalid("points: " + strconv.Itoa(len(points)) + " bytes is not a whole number of x,y float32 pairs")
	}
	n := len(points) / 8
	if n > maxPoints {
		return nil, wrapInvalid("points: " + strconv.Itoa(n) + " samples exceed the limit of " + strconv.Itoa(maxPoints))
	}
	strokes := make([]ink.Stroke, 0, len(ends))
	start := 0
	for i, end := range ends {
		e := int(end)
		if e < start || e > n {
			return nil, wrapInvalid("ends[" + strconv.Itoa(i) + "] = " + strconv.Itoa(e) + " is out of order or past the " + strconv.Itoa(n) + " points")
		}
		s := make(ink.Stroke, 0, e-start)
		for j := start; j < e; j++ {
			x := math.Float32frombits(binary.LittleEndian.Uint32(points[8*j:]))
			y := math.Float32frombits(binary.LittleEndian.Uint32(points[8*j+4:]))
			if !isFinite(x) || !isFinite(y) {
				return nil, wrapInvalid("point " + strconv.Itoa(j) + " is not a finite number")
			}
			s = append(s, ink.Point{X: float64(x) * scale, Y: float64(y) * scale})
		}
		if len(s) > 0 {
			strokes = append(strokes, s)
		}
		start = e
	}
	return strokes, nil
}

func isFinite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// checkSize validates a canvas size coming from JavaScript.
func checkSize(w, h int) error {
	if w <= 0 || h <= 0 || w > maxSide || h > maxSide {
		return wrapInvalid("canvas size " + strconv.Itoa(w) + "x" + strconv.Itoa(h) + " must be within 1.." + strconv.Itoa(maxSide))
	}
	return nil
}

// rgbaImage wraps canvas ImageData bytes (RGBA, row-major, no padding) as an image without copying.
func rgbaImage(pix []byte, w, h int) (*image.RGBA, error) {
	if err := checkSize(w, h); err != nil {
		return nil, err
	}
	if len(pix) != 4*w*h {
		return nil, wrapInvalid("pixels: " + strconv.Itoa(len(pix)) + " bytes, want 4*" + strconv.Itoa(w) + "*" + strconv.Itoa(h))
	}
	return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}

// resultObject turns a Result into the plain map handed to js.ValueOf: the JSON field names of
// recognize.Result plus "inputs" (base64 of each 28×28 input, 0..255, as in protocol.Feedback).
func resultObject(res *recognize.Result) map[string]any {
	digits := digitObjects(res.Digits)
	confirm := make([]any, len(res.Confirm))
	for i, c := range res.Confirm {
		confirm[i] = c
	}
	inputs := make([]any, len(res.Inputs))
	for i, b := range protocol.InputBytes(res.Inputs) {
		inputs[i] = encodeBase64(b)
	}
	return map[string]any{
		"code":         res.Code,
		"digits":       digits,
		"confidence":   res.Confidence,
		"confirm":      confirm,
		"format_error": res.FormatError,
		"model":        map[string]any{"name": res.Model.Name, "sha256": res.Model.SHA256},
		"inputs":       inputs,
	}
}

// digitObjects is recognize.Digit's JSON shape as plain objects.
func digitObjects(ds []recognize.Digit) []any {
	digits := make([]any, len(ds))
	for i, d := range ds {
		probs := make([]any, len(d.Probs))
		for k, p := range d.Probs {
			probs[k] = p
		}
		digits[i] = map[string]any{
			"digit":      d.Digit,
			"confidence": d.Confidence,
			"probs":      probs,
			"box":        []any{d.Box[0], d.Box[1], d.Box[2], d.Box[3]},
		}
	}
	return digits
}

// errorObject is what every bridge call returns on failure instead of throwing: {error: {code, message}} with
// the protocol's error codes, so the page handles worker and server errors alike.
func errorObject(err error) map[string]any {
	code := "internal"
	switch {
	case errors.Is(err, ink.ErrNoInk):
		code = "no_ink"
	case errors.Is(err, errInvalid):
		code = "invalid"
	}
	return map[string]any{"error": map[string]any{"code": code, "message": err.Error()}}
}

type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Is(target error) bool {
	return target == errInvalid
}

func wrapInvalid(msg string) error { return &invalidError{msg: msg} }

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
