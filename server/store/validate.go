package store

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"digitpad/shared/protocol"
)

// ErrInvalid is wrapped by every validation error, so callers can test errors.Is(err, store.ErrInvalid). The same
// errors also satisfy errors.As(err, **protocol.Error) with Code protocol.EInvalid, for mapping to HTTP 400.
var ErrInvalid = errors.New("invalid")

// Limits on a feedback record. They keep a single record small enough to commit quickly; the server enforces
// byte-size limits on the wire before a record gets here.
const (
	// InputSize is the length of one 28×28 model input.
	InputSize = 28 * 28
	// MaxDigits bounds the digits of one code.
	MaxDigits = 64
	// MaxIDLen bounds idempotency keys, client ids and prediction ids.
	MaxIDLen = 200
	// MaxInkPNG bounds the stored canvas PNG.
	MaxInkPNG = 4 << 20
)

// invalidError is a validation failure; it matches both ErrInvalid and *protocol.Error.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return "invalid: " + e.msg }

func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func (e *invalidError) As(target any) bool {
	if p, ok := target.(**protocol.Error); ok {
		*p = &protocol.Error{Code: protocol.EInvalid, Message: e.msg}
		return true
	}
	return false
}

// Invalidf returns a validation error (matching ErrInvalid and protocol.EInvalid) with a formatted message.
func Invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// ValidateFeedback checks a feedback record before it is stored: a key, a digits-only code, labels 0..9 that spell
// the code, one 784-byte input per label, and per-digit outputs that match the predicted code.
func ValidateFeedback(f *protocol.Feedback) error {
	if f.IdempotencyKey == "" {
		return Invalidf("idempotency_key is required")
	}
	for _, s := range []struct{ name, v string }{
		{"idempotency_key", f.IdempotencyKey},
		{"prediction_id", f.PredictionID},
		{"client_id", f.ClientID},
		{"model_sha256", f.ModelSHA256},
	} {
		if err := checkText(s.name, s.v, MaxIDLen); err != nil {
			return err
		}
	}
	if f.Code == "" {
		return Invalidf("code is required")
	}
	if len(f.Code) > MaxDigits {
		return Invalidf("code has %d characters, at most %d allowed", len(f.Code), MaxDigits)
	}
	if i := strings.IndexFunc(f.Code, notDigit); i >= 0 {
		return Invalidf("code %q: character %d is not a digit", f.Code, i)
	}
	if len(f.Labels) > 0 {
		if len(f.Labels) != len(f.Code) {
			return Invalidf("%d labels for the %d-digit code %q", len(f.Labels), len(f.Code), f.Code)
		}
		for i, l := range f.Labels {
			if l < 0 || l > 9 {
				return Invalidf("labels[%d] = %d, want 0..9", i, l)
			}
			if l != int(f.Code[i]-'0') {
				return Invalidf("labels[%d] = %d but code %q has %c there", i, l, f.Code, f.Code[i])
			}
		}
	}
	if len(f.Inputs) > 0 && len(f.Inputs) != len(f.Code) {
		return Invalidf("%d inputs for the %d-digit code %q", len(f.Inputs), len(f.Code), f.Code)
	}
	for i, in := range f.Inputs {
		if len(in) != InputSize {
			return Invalidf("inputs[%d] has %d bytes, want %d (28×28)", i, len(in), InputSize)
		}
	}
	if len(f.InkPNG) > MaxInkPNG {
		return Invalidf("ink PNG has %d bytes, at most %d allowed", len(f.InkPNG), MaxInkPNG)
	}
	if len(f.Predicted) > MaxDigits {
		return Invalidf("predicted has %d characters, at most %d allowed", len(f.Predicted), MaxDigits)
	}
	if err := checkText("predicted", f.Predicted, MaxDigits); err != nil {
		return err
	}
	if len(f.Digits) > MaxDigits {
		return Invalidf("%d digits, at most %d allowed", len(f.Digits), MaxDigits)
	}
	if f.Predicted != "" && len(f.Digits) > 0 && len(f.Digits) != len(f.Predicted) {
		return Invalidf("%d digit outputs for the predicted code %q", len(f.Digits), f.Predicted)
	}
	for i, d := range f.Digits {
		if d.Digit < 0 || d.Digit > 9 {
			return Invalidf("digits[%d].digit = %d, want 0..9", i, d.Digit)
		}
		if !finite01(d.Confidence) {
			return Invalidf("digits[%d].confidence = %v, want 0..1", i, d.Confidence)
		}
		for j, p := range d.Probs {
			if !finite01(p) {
				return Invalidf("digits[%d].probs[%d] = %v, want 0..1", i, j, p)
			}
		}
	}
	return nil
}

// ValidatePrediction checks a prediction before it is logged.
func ValidatePrediction(p *Prediction) error {
	if p.ID == "" {
		return Invalidf("prediction id is required")
	}
	if err := checkText("prediction id", p.ID, MaxIDLen); err != nil {
		return err
	}
	if err := checkText("client_id", p.ClientID, MaxIDLen); err != nil {
		return err
	}
	if err := checkText("code", p.Result.Code, 4*MaxDigits); err != nil {
		return err
	}
	return nil
}

// checkText rejects what one of the backends could not store faithfully: invalid UTF-8 and NUL bytes (PostgreSQL
// text cannot hold them), and overlong values.
func checkText(name, v string, max int) error {
	if len(v) > max {
		return Invalidf("%s is %d bytes long, at most %d allowed", name, len(v), max)
	}
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return Invalidf("%s is not valid UTF-8 text", name)
	}
	return nil
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

func finite01(x float64) bool { return !math.IsNaN(x) && x >= 0 && x <= 1 }
