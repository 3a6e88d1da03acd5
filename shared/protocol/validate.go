package protocol

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Limits bound what one client may send. Servers reject anything beyond them before doing work, so a hostile
// message costs little; clients can use the same values to refuse early.
type Limits struct {
	// MaxMessageBytes bounds one websocket message or one JSON request body.
	MaxMessageBytes int `json:"max_message_bytes"`
	// MaxImageBytes bounds one encoded (PNG/JPEG) image after base64 decoding.
	MaxImageBytes int `json:"max_image_bytes"`
	// MaxPixels bounds width×height of an image or a strokes canvas; checked from the image header before decoding.
	MaxPixels int `json:"max_pixels"`
	// MaxSide bounds the width and the height of a canvas.
	MaxSide int `json:"max_side"`
	// MaxStrokes and MaxPoints bound a strokes request (points counted over all strokes).
	MaxStrokes int `json:"max_strokes"`
	MaxPoints  int `json:"max_points"`
	// MaxBatchItems bounds the items of one batch prediction request.
	MaxBatchItems int `json:"max_batch_items"`
	// MaxDigits bounds the digits of a code, its labels and its 28×28 inputs.
	MaxDigits int `json:"max_digits"`
	// MaxIDLen bounds ids, idempotency keys, client ids and format strings.
	MaxIDLen int `json:"max_id_len"`
}

// MaxCoord bounds the magnitude of a stroke coordinate: a point may leave the canvas (a stroke running off the
// pad) but not by more than any canvas is wide; 1e300 is a malformed request, not a stroke. It is within
// ink.MaxCoord, the bound the ink pipeline itself enforces, so a request accepted here is never refused there as
// malformed.
const MaxCoord = 1 << 20

// DefaultLimits are generous for a clerk's pad (a canvas is well under 1 MP and a few dozen strokes) yet keep one
// message's worst-case cost to a few milliseconds of CPU.
func DefaultLimits() Limits {
	return Limits{
		MaxMessageBytes: 4 << 20,
		MaxImageBytes:   2 << 20,
		MaxPixels:       2048 * 2048,
		MaxSide:         4096,
		MaxStrokes:      256,
		MaxPoints:       20000,
		MaxBatchItems:   64,
		MaxDigits:       16,
		MaxIDLen:        128,
	}
}

// Errorf returns a protocol error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validate checks a predict request against the limits: exactly one of image or strokes, sizes within bounds.
// An empty strokes list on a valid canvas is valid (the recogniser answers no_ink).
func (p *Predict) Validate(l Limits) error {
	if len(p.Format) > l.MaxIDLen {
		return Errorf(EInvalid, "format longer than %d characters", l.MaxIDLen)
	}
	hasImage := p.Image != ""
	hasStrokes := p.Strokes != nil || p.Width != 0 || p.Height != 0
	switch {
	case hasImage && hasStrokes:
		return Errorf(EInvalid, "send either image or strokes, not both")
	case !hasImage && !hasStrokes:
		return Errorf(EInvalid, "missing image or strokes")
	case hasImage:
		if base64.StdEncoding.DecodedLen(len(p.Image)) > l.MaxImageBytes+2 {
			return Errorf(ETooLarge, "image larger than %d bytes", l.MaxImageBytes)
		}
		return nil
	}
	if p.Width <= 0 || p.Height <= 0 {
		return Errorf(EInvalid, "strokes need a positive width and height, got %dx%d", p.Width, p.Height)
	}
	if p.Width > l.MaxSide || p.Height > l.MaxSide || p.Width*p.Height > l.MaxPixels {
		return Errorf(ETooLarge, "canvas %dx%d exceeds the limit of %d pixels (side <= %d)", p.Width, p.Height,
			l.MaxPixels, l.MaxSide)
	}
	if len(p.Strokes) > l.MaxStrokes {
		return Errorf(ETooLarge, "%d strokes exceed the limit of %d", len(p.Strokes), l.MaxStrokes)
	}
	points := 0
	for i, s := range p.Strokes {
		points += len(s)
		if points > l.MaxPoints {
			return Errorf(ETooLarge, "more than %d points", l.MaxPoints)
		}
		for j, pt := range s {
			// Points may lie off the canvas (a stroke leaving the pad) but must be finite numbers of a sane size.
			if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0) {
				return Errorf(EInvalid, "stroke %d point %d is not a finite number", i, j)
			}
			if math.Abs(pt[0]) > MaxCoord || math.Abs(pt[1]) > MaxCoord {
				return Errorf(EInvalid, "stroke %d point %d (%g,%g) is farther than %g pixels from the canvas origin",
					i, j, pt[0], pt[1], float64(MaxCoord))
			}
		}
	}
	return nil
}

// Validate checks a feedback record: keys present and short, the code made of digits, labels 0..9 matching the
// code, one 28×28 input per digit, and the ink within the image limit.
func (f *Feedback) Validate(l Limits) error {
	if err := checkID("idempotency_key", f.IdempotencyKey, true, l); err != nil {
		return err
	}
	if err := checkID("client_id", f.ClientID, true, l); err != nil {
		return err
	}
	if err := checkID("prediction_id", f.PredictionID, false, l); err != nil {
		return err
	}
	if f.Code == "" && len(f.Labels) == 0 {
		return Errorf(EInvalid, "missing code or labels")
	}
	if err := checkCode("code", f.Code, l); err != nil {
		return err
	}
	if err := checkCode("predicted", f.Predicted, l); err != nil {
		return err
	}
	if len(f.Labels) > l.MaxDigits {
		return Errorf(EInvalid, "%d labels exceed the limit of %d", len(f.Labels), l.MaxDigits)
	}
	for i, d := range f.Labels {
		if d < 0 || d > 9 {
			return Errorf(EInvalid, "labels[%d] = %d is not a digit 0..9", i, d)
		}
	}
	if f.Code != "" && len(f.Labels) > 0 && f.Code != LabelsCode(f.Labels) {
		return Errorf(EInvalid, "code %q does not match labels %v", f.Code, f.Labels)
	}
	if len(f.Digits) > l.MaxDigits {
		return Errorf(EInvalid, "%d digits exceed the limit of %d", len(f.Digits), l.MaxDigits)
	}
	if len(f.Inputs) > l.MaxDigits {
		return Errorf(EInvalid, "%d inputs exceed the limit of %d", len(f.Inputs), l.MaxDigits)
	}
	digits := len(f.Code)
	if digits == 0 {
		digits = len(f.Labels)
	}
	if len(f.Inputs) > 0 && len(f.Inputs) != digits {
		return Errorf(EInvalid, "%d inputs for %d digits: send one 28×28 input per digit", len(f.Inputs), digits)
	}
	for i, in := range f.Inputs {
		if len(in) != 28*28 {
			return Errorf(EInvalid, "inputs[%d] has %d bytes, want 784 (28×28)", i, len(in))
		}
	}
	if len(f.InkPNG) > l.MaxImageBytes {
		return Errorf(ETooLarge, "ink_png larger than %d bytes", l.MaxImageBytes)
	}
	if f.ModelSHA256 != "" && !isHex(f.ModelSHA256, 64) {
		return Errorf(EInvalid, "model_sha256 must be 64 hex digits")
	}
	return nil
}

// LabelsCode joins per-digit labels into a code string ("0".."9" per label).
func LabelsCode(labels []int) string {
	var b strings.Builder
	for _, d := range labels {
		b.WriteByte(byte('0' + d))
	}
	return b.String()
}

func checkID(name, v string, required bool, l Limits) error {
	if v == "" {
		if required {
			return Errorf(EInvalid, "missing %s", name)
		}
		return nil
	}
	if len(v) > l.MaxIDLen {
		return Errorf(EInvalid, "%s longer than %d characters", name, l.MaxIDLen)
	}
	// JSON decoding turns invalid UTF-8 into U+FFFD, so two different byte strings would become one key: both
	// are refused rather than stored as a collision.
	if !utf8.ValidString(v) || strings.ContainsRune(v, utf8.RuneError) {
		return Errorf(EInvalid, "%s is not valid UTF-8", name)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return Errorf(EInvalid, "%s contains control characters", name)
		}
	}
	return nil
}

func checkCode(name, code string, l Limits) error {
	if len(code) > l.MaxDigits {
		return Errorf(EInvalid, "%s longer than %d digits", name, l.MaxDigits)
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return Errorf(EInvalid, "%s %q must contain digits only", name, code)
		}
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// NewEnvelope marshals data into a current-version envelope.
func NewEnvelope(typ, id string, data any) (*Envelope, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("marshal %s message: %w", typ, err)
	}
	return &Envelope{V: Version, Type: typ, ID: id, Data: b}, nil
}

// DecodeEnvelope parses one websocket message and checks its version; the receiver dispatches on Type and
// answers unknown types with an error message. Errors are *Error.
func DecodeEnvelope(b []byte) (*Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, Errorf(EInvalid, "malformed message: %v", err)
	}
	if e.V != Version {
		return &e, Errorf(EInvalid, "unsupported protocol version %d (server speaks %d)", e.V, Version)
	}
	if e.Type == "" {
		return &e, Errorf(EInvalid, "missing message type")
	}
	if len(e.ID) > 128 {
		return &e, Errorf(EInvalid, "message id longer than 128 characters")
	}
	return &e, nil
}
