// Package protocol defines the wire messages shared by the web pad, the kiosk and the server: versioned JSON
// envelopes for the websocket, the feedback record that becomes training data, validation and limits.
package protocol

import (
	"encoding/json"
	"time"

	"digitpad/shared/ink"
	"digitpad/shared/recognize"
)

// Version is the wire protocol version carried in every envelope.
const Version = 1

// Message types carried in Envelope.Type.
const (
	TypePredict    = "predict"    // client -> server: Predict
	TypePrediction = "prediction" // server -> client: Prediction
	TypeFeedback   = "feedback"   // client -> server: Feedback
	TypeAck        = "ack"        // server -> client: Ack, sent only after the feedback is committed
	TypeModel      = "model"      // server -> client: ModelAnnouncement
	TypeError      = "error"      // server -> client: Error
)

// Envelope wraps every websocket message. ID is chosen by the sender and echoed in replies.
type Envelope struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Predict asks for a recognition: a base64 PNG/JPEG image, or strokes on a width×height canvas.
type Predict struct {
	Image   string         `json:"image,omitempty"`
	Strokes [][][2]float64 `json:"strokes,omitempty"`
	Width   int            `json:"width,omitempty"`
	Height  int            `json:"height,omitempty"`
	Format  string         `json:"format,omitempty"`
	// Inputs asks for the 28×28 model inputs in the reply, for a feedback record built from a server prediction.
	Inputs bool `json:"inputs,omitempty"`
}

// InkStrokes is the request's strokes as ink pen paths (canvas pixels).
func (p *Predict) InkStrokes() []ink.Stroke {
	strokes := make([]ink.Stroke, len(p.Strokes))
	for i, st := range p.Strokes {
		strokes[i] = make(ink.Stroke, len(st))
		for k, pt := range st {
			strokes[i][k] = ink.Point{X: pt[0], Y: pt[1]}
		}
	}
	return strokes
}

// Prediction is a recognition result with the server's prediction id.
type Prediction struct {
	ID string `json:"id"`
	recognize.Result
	// Inputs are the 28×28 model inputs, one per digit, 0..255 (only when Predict.Inputs asked for them).
	Inputs [][]byte `json:"inputs,omitempty"`
}

// InputBytes converts 0..1 model inputs to the 0..255 bytes that feedback records carry.
func InputBytes(in [][784]float32) [][]byte {
	flat := AppendInputBytes(make([]byte, 0, len(in)*784), in)
	out := make([][]byte, len(in))
	for i := range out {
		out[i] = flat[i*784 : (i+1)*784 : (i+1)*784]
	}
	return out
}

// AppendInputBytes appends the inputs' 0..255 bytes to dst, one 784-byte run per input, each rounded by
// ink.InputByte: the one rounding of model inputs to bytes (feedback records, predictions, the prediction log).
func AppendInputBytes(dst []byte, in [][784]float32) []byte {
	for i := range in {
		for _, v := range in[i] {
			dst = append(dst, ink.InputByte(v))
		}
	}
	return dst
}

// Feedback is a clerk's confirmed code: the training record. Clients create it (also offline) and send it until
// acknowledged; IdempotencyKey makes resending safe.
type Feedback struct {
	IdempotencyKey string `json:"idempotency_key"`
	PredictionID   string `json:"prediction_id,omitempty"`
	ClientID       string `json:"client_id"`
	// Code is the final, confirmed code; Labels are its digits, one per segmented digit.
	Code   string `json:"code"`
	Labels []int  `json:"labels,omitempty"`
	// Predicted is the code the model proposed; Digits its per-digit output.
	Predicted string            `json:"predicted,omitempty"`
	Digits    []recognize.Digit `json:"digits,omitempty"`
	// InkPNG is the canvas ink as PNG (base64 in JSON); Inputs the 28×28 model inputs, one per digit, 0..255.
	InkPNG      []byte    `json:"ink_png,omitempty"`
	Inputs      [][]byte  `json:"inputs,omitempty"`
	ModelSHA256 string    `json:"model_sha256"`
	CreatedAt   time.Time `json:"created_at"`
}

// Ack confirms a committed feedback record.
type Ack struct {
	IdempotencyKey string `json:"idempotency_key"`
	FeedbackID     string `json:"feedback_id"`
	Duplicate      bool   `json:"duplicate,omitempty"`
}

// ModelAnnouncement tells clients which model is active and where to fetch it: the ONNX file (URL, SHA256, the
// model's identity) for native clients, and the same graph as a model graph file (GraphURL, GraphSHA256 of the
// file's bytes) for clients without an ONNX decoder, such as the browser's WebAssembly.
type ModelAnnouncement struct {
	Name        string `json:"name"`
	SHA256      string `json:"sha256"`
	URL         string `json:"url"`
	GraphURL    string `json:"graph_url,omitempty"`
	GraphSHA256 string `json:"graph_sha256,omitempty"`
	// CardURL is where the announced model's card is served (GET /v1/model's shape); absent: /v1/model.
	// Canary clients get /v1/canary/model.
	CardURL string `json:"card_url,omitempty"`
}

// Error is a typed error: Code is one of the E* codes.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes, mapped once to HTTP statuses by the server.
const (
	EInvalid      = "invalid"      // 400
	ENoInk        = "no_ink"       // 422
	ETooLarge     = "too_large"    // 413
	EUnauthorized = "unauthorized" // 401
	EForbidden    = "forbidden"    // 403
	ENotFound     = "not_found"    // 404
	EOverloaded   = "overloaded"   // 503 (queue full) / 429 (per-client rate)
	ERateLimited  = "rate_limited" // 429
	EInternal     = "internal"     // 500
	EUnavailable  = "unavailable"  // 503
)

func (e *Error) Error() string { return e.Code + ": " + e.Message }
