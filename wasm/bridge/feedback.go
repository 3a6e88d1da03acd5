package bridge

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"

	"digitpad/shared/ink"
	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// The page's feedback records are built in Go by protocol.NewFeedback, like the kiosk's. The conversions here
// work on plain Go values (what jsValue makes of a JavaScript value: map[string]any, []any, float64, string,
// bool), so they are tested natively; the browser's wasm does not link encoding/json (~180 kB gzip), hence the
// hand-written mapping, which TestRecordObject_IsFeedbackJSON pins to protocol.Feedback's JSON.

// confirmationFrom reads the page's confirmation object: {idempotency_key, client_id, labels: number[],
// created_at: ms since the epoch, prediction: the result the page showed (this bridge's result object, or a
// server prediction with id and inputs; {} for a code typed on an empty pad), edited?: digits deleted or
// inserted, typed?: the whole code typed (protocol.Confirmation.Edited, Typed)}.
func confirmationFrom(o map[string]any) (protocol.Confirmation, error) {
	var c protocol.Confirmation
	var err error
	if c.IdempotencyKey, err = stringField(o, "idempotency_key"); err != nil {
		return c, err
	}
	if c.ClientID, err = stringField(o, "client_id"); err != nil {
		return c, err
	}
	if c.Labels, err = intsField(o, "labels"); err != nil {
		return c, err
	}
	ms, ok := o["created_at"].(float64)
	if !ok || !(math.Abs(ms) <= 8.64e15) { // NaN, infinities and what Date cannot hold

		return c, wrapInvalid("confirmation: created_at must be a number (ms since the epoch)")
	}
	c.CreatedAt = time.UnixMilli(int64(ms)).UTC()
	p, ok := o["prediction"].(map[string]any)
	if !ok {
		return c, wrapInvalid("confirmation: prediction must be an object")
	}
	c.Prediction, err = predictionFrom(p)
	c.Edited, _ = o["edited"].(bool)
	c.Typed, _ = o["typed"].(bool)
	return c, err
}

// predictionFrom reads a result object (resultObject's shape, or the server's protocol.Prediction JSON): the
// fields a feedback record keeps.
func predictionFrom(o map[string]any) (protocol.Prediction, error) {
	var p protocol.Prediction
	var err error
	if p.ID, err = stringField(o, "id"); err != nil {
		return p, err
	}
	if p.Code, err = stringField(o, "code"); err != nil {
		return p, err
	}
	if m, ok := o["model"].(map[string]any); ok {
		if p.Model.Name, err = stringField(m, "name"); err != nil {
			return p, err
		}
		if p.Model.SHA256, err = stringField(m, "sha256"); err != nil {
			return p, err
		}
	}
	ds, _ := o["digits"].([]any)
	if len(ds) > maxDigits {
		return p, wrapInvalid("prediction: more than " + strconv.Itoa(maxDigits) + " digits")
	}
	for i, v := range ds {
		d, ok := v.(map[string]any)
		if !ok {
			return p, wrapInvalid("prediction: digits[" + strconv.Itoa(i) + "] is not an object")
		}
		var dg recognize.Digit
		n, ok1 := d["digit"].(float64)
		dg.Confidence, _ = d["confidence"].(float64)
		probs, ok2 := d["probs"].([]any)
		box, ok3 := d["box"].([]any)
		if !ok1 || !ok2 || !ok3 || len(probs) != 10 || len(box) != 4 {
			return p, wrapInvalid("prediction: digits[" + strconv.Itoa(i) + "] wants digit, confidence, 10 probs and a 4-number box")
		}
		dg.Digit = int(n)
		for k := range probs {
			dg.Probs[k], _ = probs[k].(float64)
		}
		for k := range box {
			b, _ := box[k].(float64)
			dg.Box[k] = int(b)
		}
		p.Digits = append(p.Digits, dg)
	}
	ins, _ := o["inputs"].([]any)
	if len(ins) > maxDigits {
		return p, wrapInvalid("prediction: more than " + strconv.Itoa(maxDigits) + " inputs")
	}
	for i, v := range ins {
		s, _ := v.(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != 784 {
			return p, wrapInvalid("prediction: inputs[" + strconv.Itoa(i) + "] is not base64 of 28×28 bytes")
		}
		p.Inputs = append(p.Inputs, b)
	}
	return p, nil
}

// maxDigits bounds the digits and inputs read from the page (the protocol's own limit applies afterwards).
const maxDigits = 64

func stringField(o map[string]any, name string) (string, error) {
	switch v := o[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", wrapInvalid(name + " must be a string")
	}
}

func intsField(o map[string]any, name string) ([]int, error) {
	a, ok := o[name].([]any)
	if !ok || len(a) > maxDigits {
		return nil, wrapInvalid(name + " must be an array of at most " + strconv.Itoa(maxDigits) + " numbers")
	}
	out := make([]int, len(a))
	for i, v := range a {
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return nil, wrapInvalid(name + "[" + strconv.Itoa(i) + "] must be an integer")
		}
		out[i] = int(f)
	}
	return out, nil
}

// feedbackRecord builds the record of a confirmed code drawn as strokes on a w×h canvas: protocol.NewFeedback
// with ink.StrokesPNG as the ink image, as the kiosk does.
func feedbackRecord(strokes []ink.Stroke, w, h int, conf map[string]any) (protocol.Feedback, error) {
	c, err := confirmationFrom(conf)
	if err != nil {
		return protocol.Feedback{}, err
	}
	if err := checkSize(w, h); err != nil {
		return protocol.Feedback{}, err
	}
	if !c.Typed { // a typed code's record carries no ink (protocol.Confirmation.Typed)
		if c.InkPNG, err = ink.StrokesPNG(strokes, w, h); err != nil {
			return protocol.Feedback{}, err
		}
	}
	f, err := protocol.NewFeedback(c)
	if err != nil {
		return protocol.Feedback{}, wrapInvalid("feedback record: " + err.Error())
	}
	return f, nil
}

// recordObject is protocol.Feedback as the plain object JSON.stringify turns into the same record as Go's
// encoding/json (same names, omitempty fields left out, bytes as base64, created_at in RFC 3339 with
// milliseconds, the page clock's precision).
func recordObject(f protocol.Feedback) map[string]any {
	o := map[string]any{
		"idempotency_key": f.IdempotencyKey,
		"client_id":       f.ClientID,
		"code":            f.Code,
		"model_sha256":    f.ModelSHA256,
		"created_at":      rfc3339Millis(f.CreatedAt),
	}
	if f.PredictionID != "" {
		o["prediction_id"] = f.PredictionID
	}
	if len(f.Labels) > 0 {
		ls := make([]any, len(f.Labels))
		for i, l := range f.Labels {
			ls[i] = l
		}
		o["labels"] = ls
	}
	if f.Predicted != "" {
		o["predicted"] = f.Predicted
	}
	if len(f.Digits) > 0 {
		o["digits"] = digitObjects(f.Digits)
	}
	if len(f.InkPNG) > 0 {
		o["ink_png"] = encodeBase64(f.InkPNG)
	}
	if len(f.Inputs) > 0 {
		ins := make([]any, len(f.Inputs))
		for i, b := range f.Inputs {
			ins[i] = encodeBase64(b)
		}
		o["inputs"] = ins
	}
	return o
}

// rfc3339Millis formats t in UTC as 2006-01-02T15:04:05.000Z, which time.Time's UnmarshalJSON reads back to the
// same instant at millisecond precision. (time.Format would add ~20 kB gzip to the wasm.)
func rfc3339Millis(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b := make([]byte, 0, 24)
	pad := func(v, n int) {
		s := strconv.Itoa(v)
		for i := len(s); i < n; i++ {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	pad(y, 4)
	b = append(b, '-')
	pad(int(mo), 2)
	b = append(b, '-')
	pad(d, 2)
	b = append(b, 'T')
	pad(h, 2)
	b = append(b, ':')
	pad(mi, 2)
	b = append(b, ':')
	pad(s, 2)
	b = append(b, '.')
	pad(t.Nanosecond()/1e6, 3)
	b = append(b, 'Z')
	return string(b)
}
