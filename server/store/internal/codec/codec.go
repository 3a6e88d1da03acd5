// Package codec turns the slices of a feedback record or prediction into column values and back, identically for
// every backend, so that both store the same bytes and return the same shapes (empty slices come back nil).
package codec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"

	"digitpad/server/internal/resultjson"
	"digitpad/shared/ink"
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

// Formats of a PackFloatInputs blob, told apart by its first byte and length. Blobs of earlier versions hold
// float32s; their length is a multiple of 784*4, which the byte formats never have: inputs8's leaves a remainder of
// one modulo 784, and inputsRuns is padded by a byte when it would land on such a multiple.
const (
	inputs8    = 1 // the format byte, then 784 bytes per input
	inputsRuns = 2 // the format byte, a uvarint input count, then each input's runs (see appendRuns)
)

// PackFloatInputs stores model inputs (0..1) as one byte per pixel, rounded like protocol.InputBytes (what clients
// send in feedback and what the training export writes), behind a format byte; nil for none. The prediction log
// writes one per request, and a 28×28 digit is three-quarters blank: its zero runs are stored as counts when that
// is shorter (inputsRuns, ~300 bytes for an MNIST-like digit instead of 785), which is what most of a log row's
// SQLite cost scales with.
func PackFloatInputs(in [][784]float32) []byte {
	if len(in) == 0 {
		return nil
	}
	dense := 1 + len(in)*784
	out := binary.AppendUvarint(append(make([]byte, 0, dense), inputsRuns), uint64(len(in)))
	for i := range in {
		out = appendRuns(out, &in[i])
		if len(out) >= dense {
			return protocol.AppendInputBytes(append(out[:0], inputs8), in)
		}
	}
	if len(out)%(784*4) == 0 {
		out = append(out, 0) // never the length of a float32 blob
	}
	return out
}

// appendRuns appends one input's pixels, rounded by ink.InputByte as protocol.AppendInputBytes does, as runs: a
// count of zero pixels (0..255), a count of literal pixels (0..255), then those pixels; repeated until all 784 are
// covered. A single zero between inked pixels stays in the literal run (one byte rather than two counts).
func appendRuns(dst []byte, in *[784]float32) []byte {
	const n = len(in)
	var px [n + 8]byte          // zero-padded: a word may be read from any pixel
	for j := 0; j < n; j += 4 { // blank quads (most of a digit's frame) skipped by their bits
		q := in[j : j+4 : j+4]
		if math.Float32bits(q[0])|math.Float32bits(q[1])|math.Float32bits(q[2])|math.Float32bits(q[3]) != 0 {
			px[j], px[j+1] = ink.InputByte(q[0]), ink.InputByte(q[1])
			px[j+2], px[j+3] = ink.InputByte(q[2]), ink.InputByte(q[3])
		}
	}
	for i := 0; i < n; {
		lim := min(n, i+255)
		z := i
		for z < lim {
			if w := binary.LittleEndian.Uint64(px[z:]); w != 0 {
				z += bits.TrailingZeros64(w) / 8
				break
			}
			z += 8
		}
		z = min(z, lim)
		l, llim := z, min(n, z+255)
		for l < llim && (px[l] != 0 || l > z && px[l+1] != 0) {
			l++
		}
		dst = append(dst, byte(z-i), byte(l-z))
		dst = append(dst, px[z:l]...)
		i = l
	}
	return dst
}

// UnpackFloatInputs reverses PackFloatInputs (pixels k/255), and reads the float32 blobs of earlier versions.
func UnpackFloatInputs(b []byte) ([][784]float32, error) {
	if len(b) == 0 {
		return nil, nil
	}
	switch {
	case len(b)%(784*4) == 0:
		out := make([][784]float32, len(b)/(784*4))
		for i := range out {
			for j := range out[i] {
				out[i][j] = math.Float32frombits(binary.LittleEndian.Uint32(b[(i*784+j)*4:]))
			}
		}
		return out, nil
	case b[0] == inputs8 && len(b)%784 == 1:
		out := make([][784]float32, len(b)/784)
		for i := range out {
			bytesToInput(&out[i], b[1+i*784:1+(i+1)*784])
		}
		return out, nil
	case b[0] == inputsRuns:
		return unpackRuns(b[1:])
	}
	return nil, fmt.Errorf("inputs blob of %d bytes is neither bytes nor float32s of 28×28 inputs", len(b))
}

// unpackRuns reads an inputsRuns blob after its format byte.
func unpackRuns(b []byte) ([][784]float32, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("inputs blob: bad input count")
	}
	b = b[k:]
	out := make([][784]float32, n)
	var px [784]byte
	for i := range out {
		j := 0
		for j < len(px) {
			if len(b) < 2 {
				return nil, fmt.Errorf("inputs blob: input %d ends after %d pixels", i, j)
			}
			z, l := int(b[0]), int(b[1])
			if j+z+l > len(px) || len(b) < 2+l {
				return nil, fmt.Errorf("inputs blob: input %d: run past its 784 pixels or the blob", i)
			}
			clear(px[j : j+z])
			copy(px[j+z:], b[2:2+l])
			j += z + l
			b = b[2+l:]
			if z+l == 0 {
				return nil, fmt.Errorf("inputs blob: input %d: empty run", i)
			}
		}
		bytesToInput(&out[i], px[:])
	}
	if len(b) > 1 || len(b) == 1 && b[0] != 0 {
		return nil, fmt.Errorf("inputs blob: %d bytes after the last input", len(b))
	}
	return out, nil
}

// bytesToInput turns 0..255 pixels back into model inputs k/255.
func bytesToInput(dst *[784]float32, px []byte) {
	for j, v := range px[:784] {
		dst[j] = float32(v) / 255
	}
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

// ResultOf is Result, or encoded when it is set (store.Prediction.ResultJSON: the same bytes, already encoded).
func ResultOf(r *recognize.Result, encoded []byte) (string, error) {
	if len(encoded) > 0 {
		return string(encoded), nil
	}
	return Result(r)
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
