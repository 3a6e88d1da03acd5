// Package store keeps predictions and clerks' feedback durably: one interface, with an embedded SQLite
// implementation (default) and a PostgreSQL one for several replicas, versioned schema migrations in both.
package store

import (
	"context"
	"errors"
	"time"

	"digitpad/shared/protocol"
	"digitpad/shared/recognize"
)

// ErrNotFound is returned for unknown ids.
var ErrNotFound = errors.New("not found")

// Prediction is a logged recognition.
type Prediction struct {
	ID        string           `json:"id"`
	CreatedAt time.Time        `json:"created_at"`
	ClientID  string           `json:"client_id,omitempty"`
	Result    recognize.Result `json:"result"`
	// InkPNG is the canvas ink as PNG; may be empty when the server is configured not to keep it.
	InkPNG []byte `json:"ink_png,omitempty"`
	// ResultJSON, when set, is Result as the stores encode it (resultjson.AppendResult with HTML escaping), which
	// the caller already had: the server encodes a result once, for its answer and its log. Nil: the store
	// encodes Result itself. Never read back: a stored prediction comes back with Result only.
	ResultJSON []byte `json:"-"`
}

// Feedback is a stored feedback record.
type Feedback struct {
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	protocol.Feedback
}

// Store is implemented by sqlite and postgres. All methods are safe for concurrent use.
type Store interface {
	// SavePredictions writes a batch of predictions in one transaction (the server logs them asynchronously).
	SavePredictions(ctx context.Context, ps []Prediction) error
	// Prediction returns a prediction and any feedback on it, or ErrNotFound.
	Prediction(ctx context.Context, id string) (*Prediction, []Feedback, error)
	// SaveFeedback commits one record; it returns only after commit. The same IdempotencyKey again returns the
	// first record's id with duplicate=true and stores nothing new.
	SaveFeedback(ctx context.Context, f protocol.Feedback) (id string, duplicate bool, err error)
	// Feedback lists stored feedback in insertion order after the given id ("" = from the start), for export.
	Feedback(ctx context.Context, afterID string, limit int) ([]Feedback, error)
	// Ping checks the store is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}
