package store

import (
	"context"
	"time"
)

// Retention bounds the prediction log. Predictions are a debugging and analytics log that any open client can
// grow; feedback (the clerks' confirmed codes, the training data) is never deleted by retention.
type Retention struct {
	// MaxAge deletes predictions created longer ago than this, by the store's clock (0: no age limit).
	MaxAge time.Duration
	// MaxBytes deletes the oldest predictions until the rest take at most this many payload bytes (0: no limit).
	MaxBytes int64
}

// LogStats describes the stored prediction log.
type LogStats struct {
	Rows int64
	// Bytes is the payload: every column's data (ids, codes, result JSON, inputs, ink), as PredictionBytes counts
	// it; the database's files add their own overhead (pages, indexes) on top.
	Bytes int64
}

// Pruner is implemented by stores whose prediction log can be bounded (the SQLite, PostgreSQL and in-memory
// stores). Prune applies r and returns how many predictions it deleted and what is left.
type Pruner interface {
	PrunePredictions(ctx context.Context, r Retention) (deleted int64, left LogStats, err error)
}

// PredictionBytes is the payload size of one stored prediction, given the lengths of its columns: the in-memory
// store's measure, and the formula the SQL backends evaluate (plus 16 bytes for the fixed-size columns).
func PredictionBytes(id, clientID, code, model, result string, inputs, ink int) int64 {
	return int64(len(id)+len(clientID)+len(code)+len(model)+len(result)+inputs+ink) + 16
}
