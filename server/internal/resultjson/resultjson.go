// Package resultjson writes a recognition result as JSON without reflection, byte for byte as encoding/json
// writes it: the answer of every POST /v1/predict and the result column of every logged prediction. For a
// one-digit answer encoding/json's reflection walk cost about as much as the digit's JSON itself (~2% of the
// request's CPU, twice: answer and log).
//
// Only the common case is written here: finite numbers and plain strings (printable ASCII without quotes,
// backslashes or, when HTML escaping is on, <, > and &). Anything else reports ok false and the caller uses
// encoding/json, so the output never differs from it (TestAppend_AsEncodingJSON).
package resultjson

import (
	"encoding/base64"
	"math"
	"strconv"

	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// AppendResult appends r as json.Marshal (escapeHTML true) or a json.Encoder with SetEscapeHTML(false) writes it,
// without the encoder's newline; ok is false when r needs encoding/json (dst is then to be discarded).
func AppendResult(dst []byte, r *recognize.Result, escapeHTML bool) (_ []byte, ok bool) {
	dst = append(dst, '{')
	if dst, ok = appendMembers(dst, r, escapeHTML); !ok {
		return dst, false
	}
	return append(dst, '}'), true
}

// AppendPrediction appends p as a json.Encoder with SetEscapeHTML(false) writes it, with the encoder's newline;
// ok is false when p needs encoding/json.
func AppendPrediction(dst []byte, p *protocol.Prediction) (_ []byte, ok bool) {
	dst = append(dst, `{"id":`...)
	if dst, ok = appendString(dst, p.ID, false); !ok {
		return dst, false
	}
	dst = append(dst, ',')
	if dst, ok = appendMembers(dst, &p.Result, false); !ok {
		return dst, false
	}
	if p.Inputs != nil {
		dst = append(dst, `,"inputs":[`...)
		for i, in := range p.Inputs {
			if i > 0 {
				dst = append(dst, ',')
			}
			if in == nil {
				dst = append(dst, "null"...)
				continue
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, in)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	}
	return append(dst, "}\n"...), true
}

// AppendPredictionResult appends what AppendPrediction writes for a prediction with this id, no inputs, and a
// result that AppendResult has already encoded (with or without HTML escaping: when the escaping encoding
// succeeds, the two are the same bytes). The server encodes a result once, for its answer and its log.
func AppendPredictionResult(dst []byte, id string, result []byte) (_ []byte, ok bool) {
	if len(result) < 2 || result[0] != '{' || result[len(result)-1] != '}' {
		return dst, false
	}
	dst = append(dst, `{"id":`...)
	if dst, ok = appendString(dst, id, false); !ok {
		return dst, false
	}
	dst = append(dst, ',')
	dst = append(dst, result[1:len(result)-1]...)
	return append(dst, "}\n"...), true
}

// appendMembers appends r's object members, in recognize.Result's field order, without the braces.
func appendMembers(dst []byte, r *recognize.Result, html bool) (_ []byte, ok bool) {
	dst = append(dst, `"code":`...)
	if dst, ok = appendString(dst, r.Code, html); !ok {
		return dst, false
	}
	dst = append(dst, `,"digits":`...)
	if r.Digits == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range r.Digits {
			d := &r.Digits[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"digit":`...)
			dst = strconv.AppendInt(dst, int64(d.Digit), 10)
			dst = append(dst, `,"confidence":`...)
			if dst, ok = appendFloat(dst, d.Confidence); !ok {
				return dst, false
			}
			dst = append(dst, `,"probs":[`...)
			for k, p := range d.Probs {
				if k > 0 {
					dst = append(dst, ',')
				}
				if dst, ok = appendFloat(dst, p); !ok {
					return dst, false
				}
			}
			dst = append(dst, `],"box":[`...)
			for k, v := range d.Box {
				if k > 0 {
					dst = append(dst, ',')
				}
				dst = strconv.AppendInt(dst, int64(v), 10)
			}
			dst = append(dst, "]}"...)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"confidence":`...)
	if dst, ok = appendFloat(dst, r.Confidence); !ok {
		return dst, false
	}
	dst = append(dst, `,"confirm":`...)
	if r.Confirm == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, v := range r.Confirm {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, int64(v), 10)
		}
		dst = append(dst, ']')
	}
	if r.FormatError != "" {
		dst = append(dst, `,"format_error":`...)
		if dst, ok = appendString(dst, r.FormatError, html); !ok {
			return dst, false
		}
	}
	dst = append(dst, `,"model":{"name":`...)
	if dst, ok = appendString(dst, r.Model.Name, html); !ok {
		return dst, false
	}
	dst = append(dst, `,"sha256":`...)
	if dst, ok = appendString(dst, r.Model.SHA256, html); !ok {
		return dst, false
	}
	return append(dst, '}'), true
}

// appendString appends s quoted when it needs no escaping; ok is false otherwise.
func appendString(dst []byte, s string, html bool) (_ []byte, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || (html && (c == '<' || c == '>' || c == '&')) {
			return dst, false
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), true
}

// appendFloat appends f as encoding/json writes a float64 (shortest representation; exponent form below 1e-6
// and from 1e21, with a one-digit negative exponent); ok is false for NaN and infinities, which it refuses.
func appendFloat(dst []byte, f float64) (_ []byte, ok bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}
