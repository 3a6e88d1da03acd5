// Package codec turns the slices of a feedback record or prediction into column values and back, identically for
// every backend, so that both store the same bytes and return the same shapes (empty slices come back nil).
package codec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"digitpad/server/internal/resultjson"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// InputSize is the byte length of one 28×28 input.
const InputSize = 28 * 28

// PackInputs concatenates equally sized 28×28 inputs; nil for none.
func PackInputs(in [][]byte) []byte {
	if len(in) == 0 {
		return nil
	}
	out := make([]byte, 0, len(in)*InputSize)
	for _, x := range in {
		out = append(out, x...)
	}
	return out
}

// UnpackInputs splits a PackInputs blob.
func UnpackInputs(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b)%InputSize != 0 {
		return nil, fmt.Errorf("inputs blob of %d bytes is not a multiple of %d", len(b), InputSize)
	}
	out := make([][]byte, len(b)/InputSize)
	for i := range out {
		out[i] = b[i*InputSize : (i+1)*InputSize : (i+1)*InputSize]
	}
	return out, nil
}

// inputs8 marks a PackFloatInputs blob of 0..255 bytes; older blobs hold float32s, and their length (a multiple
// of 784*4) never leaves a remainder of one byte modulo 784.
const inputs8 = 1

// PackFloatInputs stores model inputs (0..1) as one byte per pixel, rounded like protocol.InputBytes (what clients
// send in feedback and what the training export writes), behind a format byte; nil for none. A quarter of float32
// storage: the prediction log writes one per request.
func PackFloatInputs(in [][784]float32) []byte {
	if len(in) == 0 {
		return nil
	}
	return protocol.AppendInputBytes(append(make([]byte, 0, 1+len(in)*784), inputs8), in)
}

// UnpackFloatInputs reverses PackFloatInputs (pixels k/255), and reads the float32 blobs of earlier versions.
func UnpackFloatInputs(b []byte) ([][784]float32, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b)%784 == 1 && b[0] == inputs8 {
		out := make([][784]float32, len(b)/784)
		for i := range out {
			for j, v := range b[1+i*784 : 1+(i+1)*784] {
				out[i][j] = float32(v) / 255
			}
		}
		return out, nil
	}
	if len(b)%(784*4) != 0 {
		return nil, fmt.Errorf("inputs blob of %d bytes is neither bytes nor float32s of 28×28 inputs", len(b))
	}
	out := make([][784]float32, len(b)/(784*4))
	for i := range out {
		for j := range out[i] {
			out[i][j] = math.Float32frombits(binary.LittleEndian.Uint32(b[(i*784+j)*4:]))
		}
	}
	return out, nil
}

// Labels encodes labels as a JSON array ("[]" for none).
func Labels(l []int) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []int always marshals
	return string(b)
}

// ParseLabels reverses Labels.
func ParseLabels(s string) ([]int, error) {
	var l []int
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("decode labels %q: %w", s, err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// Digits encodes per-digit outputs as JSON ("[]" for none).
func Digits(d []recognize.Digit) (string, error) {
	if len(d) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode digits: %w", err)
	}
	return string(b), nil
}

// ParseDigits reverses Digits.
func ParseDigits(s string) ([]recognize.Digit, error) {
	var d []recognize.Digit
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, fmt.Errorf("decode digits: %w", err)
	}
	if len(d) == 0 {
		return nil, nil
	}
	return d, nil
}

// Result encodes a recognition result as JSON (its Inputs are stored separately with PackFloatInputs).
func Result(r *recognize.Result) (string, error) {
	if b, ok := resultjson.AppendResult(make([]byte, 0, 512), r, true); ok {
		return string(b), nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode result: %w", err)
	}
	return string(b), nil
}

// ParseResult reverses Result and attaches the unpacked inputs.
func ParseResult(s string, inputs []byte) (recognize.Result, error) {
	var r recognize.Result
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return r, fmt.Errorf("decode result: %w", err)
	}
	in, err := UnpackFloatInputs(inputs)
	if err != nil {
		return r, err
	}
	r.Inputs = in
	return r, nil
}

// Blob turns an empty byte slice into nil, so that "no ink" is stored as NULL everywhere.
func Blob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
